//! Netlink attributes: type, length, payload padded to 4 bytes; nestable.

/// Attributes being built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs(pub Vec<u8>);

impl Attrs {
    /// No attributes yet.
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// Appends attribute `kind` with `payload`.
    pub fn add(mut self, kind: u16, payload: &[u8]) -> Attrs {
        let len = 4 + payload.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(payload);
        self.0.resize((self.0.len() + 3) & !3, 0);
        self
    }

    /// A NUL-terminated string attribute (interface names, kinds).
    pub fn string(self, kind: u16, s: &str) -> Attrs {
        let mut p = s.as_bytes().to_vec();
        p.push(0);
        self.add(kind, &p)
    }

    /// A native-endian `u32` attribute.
    pub fn u32(self, kind: u16, v: u32) -> Attrs {
        self.add(kind, &v.to_ne_bytes())
    }

    /// A nested attribute holding `inner`.
    pub fn nest(self, kind: u16, inner: &Attrs) -> Attrs {
        self.add(kind | libc::NLA_F_NESTED as u16, &inner.0)
    }

    /// Appends when `v` is `Some`.
    pub fn maybe<T>(self, v: Option<T>, f: impl FnOnce(Attrs, T) -> Attrs) -> Attrs {
        match v {
            Some(v) => f(self, v),
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nest() {
        let a = Attrs::new().string(3, "eth0");
        // len 9 (4 + "eth0\0"), type 3, padded to 12.
        assert_eq!(a.0.len(), 12);
        assert_eq!(&a.0[..4], &[9, 0, 3, 0]);
        assert_eq!(&a.0[4..9], b"eth0\0");
        let n = Attrs::new().nest(18, &Attrs::new().u32(1, 7));
        assert_eq!(&n.0[..4], &[12, 0, 18, 0x80]);
        assert_eq!(&n.0[4..8], &[8, 0, 1, 0]);
    }
}
