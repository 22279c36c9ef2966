//! aima
