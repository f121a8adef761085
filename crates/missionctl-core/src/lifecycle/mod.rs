//! After implementation: the review cycle, merge, acceptance and its matrix, the finish
//! gate, and the retrospective.

pub mod acceptance;
pub mod acceptance_matrix;
pub mod finish_gate;
pub mod merge;
pub mod retrospective;
pub mod review_cycle;
