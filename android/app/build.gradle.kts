// The Linnet app for Android: Jetpack Compose over the :linnet SDK module.
//
//   ./gradlew :app:installDebug            builds Rust (through :linnet) and installs on a device
//   ./gradlew :app:bundleRelease           the Play bundle (signing: see README.md)
//
// The presentation layer (src/main/kotlin/org/linnet/app/presentation) is pure Kotlin and is also
// compiled and tested on the JVM outside Gradle; the view layer (ui/, platform/) needs Android.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

// Firebase Cloud Messaging is configured by the operator's google-services.json (not in git).
// Without it the app builds and runs; push is then simply unavailable (PushTokenSource -> null).
if (file("google-services.json").exists()) {
    apply(plugin = "com.google.gms.google-services")
}

// Release signing from the operator's keystore, never committed: keystore.properties next to this
// file (storeFile, storePassword, keyAlias, keyPassword) or the same names as -P properties.
val signingProps = java.util.Properties().apply {
    val f = file("keystore.properties")
    if (f.exists()) f.inputStream().use { load(it) }
}
fun signingValue(name: String): String? =
    providers.gradleProperty("linnet.signing.$name").orNull ?: signingProps.getProperty(name)

android {
    namespace = "org.linnet.app"
    compileSdk = 36

    defaultConfig {
        applicationId = "org.linnet.app"
        minSdk = 26
        targetSdk = 36
        versionCode = providers.gradleProperty("linnet.versionCode").orNull?.toInt() ?: 1
        versionName = providers.gradleProperty("linnet.versionName").orNull ?: "0.1.0"
        // The push app server (linnet-push) this build registers devices with, e.g.
        // -Plinnet.pushAppServer=push.example.org (or in gradle.properties). Empty: notifications
        // can be turned on, but the settings screen reports that no app server is configured.
        val pushAppServer = providers.gradleProperty("linnet.pushAppServer").orNull ?: ""
        buildConfigField("String", "PUSH_APP_SERVER", "\"$pushAppServer\"")
    }

    signingConfigs {
        val storeFilePath = signingValue("storeFile")
        if (storeFilePath != null) {
            create("release") {
                storeFile = file(storeFilePath)
                storePassword = signingValue("storePassword")
                keyAlias = signingValue("keyAlias")
                keyPassword = signingValue("keyPassword")
            }
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            isShrinkResources = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
            signingConfig = signingConfigs.findByName("release")
        }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        resources.excludes += "/META-INF/{AL2.0,LGPL2.1}"
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":linnet"))

    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    implementation("androidx.core:core-ktx:1.16.0")
    implementation("androidx.activity:activity-compose:1.11.0")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.9.4")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.9.4")
    implementation("androidx.lifecycle:lifecycle-process:2.9.4")
    implementation("androidx.navigation:navigation-compose:2.9.4")

    val composeBom = platform("androidx.compose:compose-bom:2025.10.00")
    implementation(composeBom)
    implementation("androidx.compose.ui:ui")
    implementation("androidx.compose.ui:ui-tooling-preview")
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.material:material-icons-extended")
    debugImplementation("androidx.compose.ui:ui-tooling")

    // FCM: FirebaseMessagingService, the device token. No analytics: firebase-messaging alone.
    implementation(platform("com.google.firebase:firebase-bom:34.4.0"))
    implementation("com.google.firebase:firebase-messaging")
}
