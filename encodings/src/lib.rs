//! Compact state encodings (to come).
