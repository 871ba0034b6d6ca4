//! Shared copies of the strings and number lists that repeat from flow to flow: every
//! connection of one client sends the same cipher suites, extensions and fingerprints,
//! and a busy capture keeps thousands of finished flows for the report. One
//! [`Interner`] per analysis, in its [`DecodeCtx`](super::DecodeCtx); at most
//! `MAX_KEPT` distinct values are remembered per table (later ones are still returned,
//! just not shared), so garbage input cannot make the tables grow.

use rustc_hash::FxHashSet;
use std::hash::Hash;
use std::sync::Arc;

const MAX_KEPT: usize = 16 * 1024;

/// The shared copies handed out so far.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    text: FxHashSet<Arc<str>>,
    u16s: FxHashSet<Arc<[u16]>>,
}

/// The shared copy of `v` in `table`, kept there if there is room.
fn share<T: ?Sized + Eq + Hash>(table: &mut FxHashSet<Arc<T>>, v: &T) -> Arc<T>
where
    Arc<T>: for<'a> From<&'a T>,
{
    if let Some(k) = table.get(v) {
        return k.clone();
    }
    let a: Arc<T> = Arc::from(v);
    if table.len() < MAX_KEPT {
        table.insert(a.clone());
    }
    a
}

impl Interner {
    /// The shared copy of `s`.
    pub fn text(&mut self, s: &str) -> Arc<str> {
        share(&mut self.text, s)
    }

    /// The shared copy of `v`.
    pub fn u16s(&mut self, v: &[u16]) -> Arc<[u16]> {
        share(&mut self.u16s, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy() {
        let mut i = Interner::default();
        let a = i.text("t13d1516h2_8daaf6152771_02713d6af862");
        let b = i.text(&String::from("t13d1516h2_8daaf6152771_02713d6af862"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &i.text("other")));
        let x = i.u16s(&[0x1301, 0x1302]);
        assert!(Arc::ptr_eq(&x, &i.u16s(&[0x1301, 0x1302])));
        assert_eq!(&*i.u16s(&[0x1301]), &[0x1301]);
    }
}
