//! Shared copies of the strings and number lists that repeat from flow to flow: every
//! connection of one client sends the same cipher suites, extensions and fingerprints,
//! and a busy capture keeps thousands of finished flows for the report. Per thread,
//! like the analysis; at most `MAX_KEPT` distinct values are remembered (later ones are
//! still returned, just not shared), so garbage input cannot make the table grow.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::Arc;

const MAX_KEPT: usize = 16 * 1024;

thread_local! {
    static TEXT: RefCell<FxHashMap<Arc<str>, ()>> = RefCell::new(FxHashMap::default());
    static U16S: RefCell<FxHashMap<Arc<[u16]>, ()>> = RefCell::new(FxHashMap::default());
}

/// The shared copy of `s`.
pub fn text(s: &str) -> Arc<str> {
    TEXT.with_borrow_mut(|m| {
        if let Some((k, _)) = m.get_key_value(s) {
            return k.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if m.len() < MAX_KEPT {
            m.insert(a.clone(), ());
        }
        a
    })
}

/// The shared copy of `v`.
pub fn u16s(v: &[u16]) -> Arc<[u16]> {
    U16S.with_borrow_mut(|m| {
        if let Some((k, _)) = m.get_key_value(v) {
            return k.clone();
        }
        let a: Arc<[u16]> = Arc::from(v);
        if m.len() < MAX_KEPT {
            m.insert(a.clone(), ());
        }
        a
    })
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
