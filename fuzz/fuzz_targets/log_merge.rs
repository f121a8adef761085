#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| missionctl_fuzz::log_merge(data));
