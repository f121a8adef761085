#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| missionctl_fuzz::requirement_refs_edit(data));
