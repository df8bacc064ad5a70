//! `rlxc template-script NAME ARGS…`: what an `lxc-NAME` link to rlxc runs
//! for a built-in template (LXC's template calling convention).

use clap::Args;

/// `template-script NAME [--path DIR --name N --rootfs R | --clean | -h] ARGS…`.
#[derive(Debug, Args)]
pub struct TemplateScriptArgs {
    /// The built-in template.
    pub template: String,
    /// LXC's template arguments and the template's own.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}
