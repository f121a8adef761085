//! Byte-exact text formats Spec Kitty writes: Python's `json.dumps`, its string helpers,
//! `difflib`, SHA-256, timestamps, and the YAML blocks of front matter.

pub mod block_yaml;
pub mod difflib;
pub mod pyjson;
pub mod pytext;
pub mod sha256;
pub mod timestamp;
