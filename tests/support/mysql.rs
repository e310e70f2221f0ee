//! Test support: a real MariaDB server (placeholder until implemented).
