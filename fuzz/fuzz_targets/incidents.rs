#![no_main]

libfuzzer_sys::fuzz_target!(
    init: faultline_fuzz::targets::init(),
    |data: &[u8]| faultline_fuzz::targets::incidents(data)
);
