// The Linnet SDK for Android (library module :linnet) and the Compose app (:app).
// Not built in this repository's CI (no Android SDK there); see README.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "linnet-android"
include(":linnet")
include(":app")
