//! The CA files the environment names ([`CA_FILE_VARS`]), each read once per doctor
//! run and shared by the configuration checks and the verdicts on the chain a
//! server presents.

use super::config::{CA_FILE_VARS, Env};
use crate::analyze::trust::Bundle;
use std::cell::OnceCell;
use std::path::Path;

/// One CA file: its bytes as read (or why not), and its trust anchors once needed.
struct CaFile {
    path: String,
    bytes: std::io::Result<Vec<u8>>,
    bundle: OnceCell<Option<Bundle>>,
}

/// The CA files named by the environment; a path named by several variables is
/// read once.
#[derive(Default)]
pub struct CaFiles {
    files: Vec<CaFile>,
}

impl CaFiles {
    /// Reads every file a CA variable of `env` names.
    pub fn read(env: &Env) -> Self {
        let mut files: Vec<CaFile> = Vec::new();
        for p in CA_FILE_VARS.iter().filter_map(|k| env.value(k)) {
            if !files.iter().any(|f| f.path == p) {
                files.push(CaFile {
                    path: p.to_string(),
                    bytes: std::fs::read(p),
                    bundle: OnceCell::new(),
                });
            }
        }
        CaFiles { files }
    }

    fn get(&self, path: &str) -> Option<&CaFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// What reading `path` gave; `None` when no CA variable names it.
    pub fn bytes(&self, path: &str) -> Option<&std::io::Result<Vec<u8>>> {
        self.get(path).map(|f| &f.bytes)
    }

    /// `path`'s certificates as trust anchors; `None` when it could not be read or
    /// holds none, or no CA variable names it.
    pub fn bundle(&self, path: &str) -> Option<&Bundle> {
        let f = self.get(path)?;
        f.bundle
            .get_or_init(|| {
                let bytes = f.bytes.as_ref().ok()?;
                Bundle::from_pem_bytes(Path::new(&f.path), bytes).ok()
            })
            .as_ref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_file_named_twice_is_read_once_and_answers_both() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["ca.test".into()]).unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        let path = dir.path().join("corp.pem");
        std::fs::write(&path, pem).unwrap();
        let p = path.to_str().unwrap();
        let env = Env::of(&[("SSL_CERT_FILE", p), ("NODE_EXTRA_CA_CERTS", p)]);
        let ca = CaFiles::read(&env);
        assert_eq!(ca.files.len(), 1);
        // What was read is what the checks and verdicts see, even once the file is gone.
        std::fs::remove_file(&path).unwrap();
        assert!(ca.bytes(p).unwrap().is_ok());
        assert_eq!(ca.bundle(p).map(Bundle::len), Some(1));
        assert!(ca.bundle("/elsewhere.pem").is_none());
        // A missing file is read as missing, and gives no bundle.
        let env = Env::of(&[("CURL_CA_BUNDLE", p)]);
        let ca = CaFiles::read(&env);
        assert!(ca.bytes(p).unwrap().is_err());
        assert!(ca.bundle(p).is_none());
    }
}
