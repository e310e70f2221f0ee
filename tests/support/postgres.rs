//! Test support: a real PostgreSQL server (placeholder until implemented).
