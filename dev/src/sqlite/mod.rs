//! The bottom layer: everything that talks to SQLite directly. Connections, the one SQL
//! lexer, identifier quoting, `CREATE TABLE` text editing, the unsafe calls, and whether
//! views and triggers still compile. Nothing here knows about Diesel or schema.rs.

pub mod catalog;
pub mod create_table;
pub mod db;
pub mod ffi;
pub mod lexer;
pub mod objects;
pub mod quote;
pub mod release;
pub mod sandbox;
pub mod stored;
pub mod values;
