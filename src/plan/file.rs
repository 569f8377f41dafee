//! plan files
