//! Shared copies of the strings and number lists that repeat from flow to flow: every
//! connection of one client sends the same cipher suites, extensions and fingerprints,
//! and a busy capture keeps thousands of finished flows for the report. Per thread,
//! like the analysis; at most `MAX_KEPT` distinct values are remembered (later ones are
//! still returned, just not shared), so garbage input cannot make the table grow.

use rustc_hash::FxHashSet;
use std::cell::RefCell;
use std::hash::Hash;
use std::sync::Arc;
use std::thread::LocalKey;

const MAX_KEPT: usize = 16 * 1024;

type Shared<T> = RefCell<FxHashSet<Arc<T>>>;

thread_local! {
    static TEXT: Shared<str> = RefCell::new(FxHashSet::default());
    static U16S: Shared<[u16]> = RefCell::new(FxHashSet::default());
}

/// The shared copy of `v` in `table`, kept there if there is room.
fn share<T: ?Sized + Eq + Hash>(table: &'static LocalKey<Shared<T>>, v: &T) -> Arc<T>
where
    Arc<T>: for<'a> From<&'a T>,
{
    table.with_borrow_mut(|m| {
        if let Some(k) = m.get(v) {
            return k.clone();
        }
        let a: Arc<T> = Arc::from(v);
        if m.len() < MAX_KEPT {
            m.insert(a.clone());
        }
        a
    })
}

/// The shared copy of `s`.
pub fn text(s: &str) -> Arc<str> {
    share(&TEXT, s)
}

/// The shared copy of `v`.
pub fn u16s(v: &[u16]) -> Arc<[u16]> {
    share(&U16S, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy() {
        let a = text("t13d1516h2_8daaf6152771_02713d6af862");
        let b = text(&String::from("t13d1516h2_8daaf6152771_02713d6af862"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &text("other")));
        let x = u16s(&[0x1301, 0x1302]);
        assert!(Arc::ptr_eq(&x, &u16s(&[0x1301, 0x1302])));
        assert_eq!(&*u16s(&[0x1301]), &[0x1301]);
    }
}
