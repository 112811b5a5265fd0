// Plugin versions for all modules. Kotlin matches the compiler bindings/scripts test with (2.4.20).
plugins {
    id("com.android.library") version "8.13.0" apply false
    id("org.jetbrains.kotlin.android") version "2.4.20" apply false
}
