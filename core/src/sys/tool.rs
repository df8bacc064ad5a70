//! External program invocations as plain data.

use std::fmt;

/// An external program with its arguments, built by a pure function.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tool {
    /// Program name (looked up in `PATH`) or absolute path.
    pub program: String,
    /// Arguments, not including the program.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Bytes written to the program's standard input.
    pub stdin: Option<Vec<u8>>,
    /// Let the program's output through to rlxc's stderr as it runs (a
    /// long step's progress on a terminal) instead of capturing it.
    pub show_output: bool,
}

impl Tool {
    /// A program with arguments.
    pub fn new<I, S>(program: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Tool {
            program: program.to_string(),
            args: args.into_iter().map(Into::into).collect(),
            ..Tool::default()
        }
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The command line as a user would type it, for messages and logs.
    pub fn command_line(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        for a in &self.args {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                write!(f, " '{}'", a.replace('\'', "'\\''"))?;
            } else {
                write!(f, " {a}")?;
            }
        }
        Ok(())
    }
}

/// What a finished program left behind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolOutput {
    /// Exit code; a death by signal N is reported as 128 + N.
    pub status: i32,
    /// Captured standard output.
    pub stdout: Vec<u8>,
    /// Captured standard error.
    pub stderr: Vec<u8>,
}

impl ToolOutput {
    /// A successful run that printed `stdout`.
    pub fn ok(stdout: &str) -> Self {
        ToolOutput {
            status: 0,
            stdout: stdout.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    /// A failed run with `status` and `stderr`.
    pub fn failed(status: i32, stderr: &str) -> Self {
        ToolOutput {
            status,
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    /// Standard output as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes_what_needs_it() {
        let t = Tool::new("lvcreate", ["-n", "c 1", "it's", ""]);
        assert_eq!(t.command_line(), "lvcreate -n 'c 1' 'it'\\''s' ''");
    }
}
