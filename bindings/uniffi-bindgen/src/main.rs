//! `cargo run -p uniffi-bindgen -- generate --library target/debug/liblinnet_ffi.so --language kotlin --out-dir out`

fn main() {
    uniffi::uniffi_bindgen_main()
}
