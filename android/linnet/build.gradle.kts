// The Linnet SDK as an Android library: the generated Kotlin bindings (package org.linnet.sdk),
// the Flow adapters in src/main/kotlin, and the Rust core (liblinnet_ffi.so) per ABI in
// src/main/jniLibs, built by ../build-rust.sh (cargo-ndk, `mobile` cargo profile).
//
//   ./gradlew :linnet:assembleRelease                   builds Rust first (task buildRust)
//   ./gradlew :linnet:assembleRelease -Plinnet.skipRust  uses jniLibs + generated sources as they are
//   -Plinnet.cargoProfile=reldbg                         Rust with debug info (device debugging)
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val generatedKotlin = layout.buildDirectory.dir("generated/source/uniffi/main/kotlin")
val jniLibsDir = layout.projectDirectory.dir("src/main/jniLibs")

android {
    namespace = "org.linnet.sdk"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            java.srcDir(generatedKotlin)
            jniLibs.srcDir(jniLibsDir)
        }
    }

    packaging {
        // The .so files are stripped by the cargo profile already (except reldbg: keep its symbols).
        jniLibs.keepDebugSymbols += "**/liblinnet_ffi.so"
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // JNA with its Android native parts (the aar, not the jar); UniFFI needs >= 5.12.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    // The generated API has suspend functions and the adapters return Flows: part of our API.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.2")
}

val buildRust by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds liblinnet_ffi.so for every ABI (cargo-ndk) and generates the Kotlin bindings."
    val profile = providers.gradleProperty("linnet.cargoProfile").getOrElse("mobile")
    workingDir = rootDir
    commandLine(
        "bash", "build-rust.sh",
        "--profile", profile,
        "--jni-libs", jniLibsDir.asFile.absolutePath,
        "--kotlin-out", generatedKotlin.get().asFile.absolutePath,
    )
    // Cargo decides itself what is up to date; this task always asks it (a no-op build is fast).
    outputs.dir(jniLibsDir)
    outputs.dir(generatedKotlin)
    outputs.upToDateWhen { false }
}

if (!providers.gradleProperty("linnet.skipRust").isPresent) {
    tasks.named("preBuild") { dependsOn(buildRust) }
}
