//! PostgreSQL: SSLRequest, startup, login and `SELECT 1` (placeholder until implemented).
