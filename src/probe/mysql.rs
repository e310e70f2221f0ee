//! MySQL / MariaDB: greeting, SSL request, login and `SELECT 1` (placeholder until implemented).
