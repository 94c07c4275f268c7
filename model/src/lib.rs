//! The Kubernetes model (to come).
