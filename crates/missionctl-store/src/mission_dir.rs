//! Reading a mission directory (`kitty-specs/<mission>/`): its log, `meta.json` and snapshot.
