// Plugin versions for all modules. Kotlin matches the compiler bindings/scripts test with (2.4.20);
// the Compose compiler plugin is part of Kotlin and always has Kotlin's version.
plugins {
    id("com.android.library") version "8.13.0" apply false
    id("com.android.application") version "8.13.0" apply false
    id("org.jetbrains.kotlin.android") version "2.4.20" apply false
    id("org.jetbrains.kotlin.plugin.compose") version "2.4.20" apply false
    // Firebase Cloud Messaging: :app applies it only when app/google-services.json exists (the
    // operator's file, not in git); see app/README.md.
    id("com.google.gms.google-services") version "4.4.2" apply false
}
