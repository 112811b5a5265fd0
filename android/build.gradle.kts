// R8 (the release build's minify/shrink) must understand the Kotlin metadata of the compiler in
// use: Kotlin 2.4 needs R8 9.1.29 or newer (developer.android.com/build/kotlin-support), and
// AGP 8.13 bundles R8 8.13. The newer R8 here takes the bundled one's place on the build
// classpath (the documented way to override it); drop this when AGP bundles R8 >= 9.1.29.
buildscript {
    repositories {
        google()
    }
    dependencies {
        classpath("com.android.tools:r8:9.1.29")
    }
}

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
