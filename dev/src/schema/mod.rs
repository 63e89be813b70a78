//! The schema as Diesel sees it: the SQL types, the one model both sides are read into,
//! schema.rs reading, introspection with print-schema's rules, and the Mermaid diagram.

pub mod diagram;
pub mod introspect;
pub mod model;
pub mod objects_sql;
pub mod schema_rs;
pub mod types;
