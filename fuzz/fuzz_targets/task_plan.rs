#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| missionctl_fuzz::task_plan(data));
