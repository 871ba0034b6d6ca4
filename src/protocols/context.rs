//! The decode context: what the decoders of one analysis share, passed explicitly.
//!
//! One [`DecodeCtx`] per flow table (so per analysis thread); the table hands it, `&mut`,
//! to every decoder call alongside the data. It owns the facts budget, the log of facts
//! past it, the shared copies of repeated strings, the certificates, TLS fingerprints
//! and masked HTTP header texts computed so far, and the [`DecodeOptions`].
//! Decoders are built by a [`DecoderFactory`], which carries the same options.

use super::StreamDecoder;
use super::budget::FactBudget;
use super::dns::DnsTracker;
use super::http::MaskedTexts;
use super::intern::Interner;
use super::keylog::KeyLog;
use super::overflow::FactLog;
use super::tls::FingerprintCache;
use super::x509::CertCache;
use std::sync::Arc;

/// Settings of the decoders, fixed for an analysis.
#[derive(Clone, Debug, Default)]
pub struct DecodeOptions {
    /// TLS secrets to decrypt with (`--keylog`, pcapng secrets blocks); its Debug
    /// shows counts only.
    pub keylog: Option<Arc<KeyLog>>,
}

/// Mutable state the decoders of one analysis share.
#[derive(Clone, Debug, Default)]
pub struct DecodeCtx {
    /// Decoded facts that may still be kept (`--max-facts`).
    pub budget: FactBudget,
    /// Shared copies of repeated strings and number lists.
    pub intern: Interner,
    /// Certificates parsed so far, shared by DER.
    pub certs: CertCache,
    /// TLS fingerprints computed so far, by the hello parts they come from.
    pub fingerprints: FingerprintCache,
    /// HTTP header texts masked so far, by their raw bytes.
    pub texts: MaskedTexts,
    /// Facts past the budget or a decoder's bound: not kept with their flow, written
    /// here for the rules.
    pub facts: FactLog,
    options: Arc<DecodeOptions>,
}

impl DecodeCtx {
    /// A context for an analysis with these options, keeping at most `max_facts` facts.
    pub fn new(options: Arc<DecodeOptions>, max_facts: usize) -> Self {
        DecodeCtx {
            budget: FactBudget::new(max_facts),
            intern: Interner::default(),
            certs: CertCache::default(),
            fingerprints: FingerprintCache::default(),
            texts: MaskedTexts::default(),
            facts: FactLog::new(),
            options,
        }
    }

    /// The decoder options.
    pub fn options(&self) -> &DecodeOptions {
        &self.options
    }

    /// Adds TLS secrets (key log text) to the options, for the handshakes still to
    /// come (a pcapng Decryption Secrets Block met while reading).
    /// The key log is copied only while others share it (the first time): release
    /// the [`DecoderFactory`]s first, and many blocks cost no more than one.
    pub fn add_secrets(&mut self, text: &[u8]) {
        let options = Arc::make_mut(&mut self.options);
        Arc::make_mut(options.keylog.get_or_insert_default()).add(text);
    }

    /// Builds decoders with this context's options.
    pub fn decoders(&self) -> DecoderFactory {
        DecoderFactory {
            options: Arc::clone(&self.options),
        }
    }
}

/// Builds the decoders of new flows, configured with the analysis's options.
#[derive(Clone, Debug, Default)]
pub struct DecoderFactory {
    options: Arc<DecodeOptions>,
}

impl DecoderFactory {
    /// A factory for decoders with `options`.
    pub fn new(options: Arc<DecodeOptions>) -> Self {
        DecoderFactory { options }
    }

    /// The decoder options.
    pub fn options(&self) -> &DecodeOptions {
        &self.options
    }

    /// The decoder of a new TCP connection between these ports.
    pub fn stream(&self, client_port: u16, server_port: u16) -> StreamDecoder {
        StreamDecoder::new(client_port, server_port)
    }

    /// The DNS decoder of a new UDP conversation.
    pub fn dns_udp(&self) -> DnsTracker {
        DnsTracker::new()
    }
}
