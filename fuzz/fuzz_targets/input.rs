#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| faultline_fuzz::targets::input(data));
