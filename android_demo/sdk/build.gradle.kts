// The MobileSpeech SDK as an Android library module: the Kotlin API (package com.mobilespeech:
// MobileSpeech, MobileSpeechException, the NativeBridge natives) and the JNI bridge
// libmobilespeech_jni.so, which links the prebuilt libmobilespeech.so from build_android.sh.
// An app uses it with `implementation(project(":sdk"))` (the demo app does), or as the AAR that
// `./gradlew :sdk:assembleRelease` writes to sdk/build/outputs/aar/.
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    // The Kotlin package too: JNI binds Java_com_mobilespeech_NativeBridge_* by that name.
    namespace = "com.mobilespeech"
    compileSdk = 34
    // NDK r27c. build_android.sh must use the same NDK for libmobilespeech.so (one libc++_shared).
    ndkVersion = "27.2.12479018"

    defaultConfig {
        minSdk = 26
        ndk {
            abiFilters += listOf("arm64-v8a")
        }
        externalNativeBuild {
            cmake {
                arguments += listOf("-DANDROID_STL=c++_shared")
            }
        }
        // Keeps the names JNI binds in any app that minifies.
        consumerProguardFiles("consumer-rules.pro")
    }

    externalNativeBuild {
        cmake {
            path = file("src/main/cpp/CMakeLists.txt")
            version = "3.22.1"
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions {
        jvmTarget = "17"
    }
}

// No dependencies beyond the Kotlin standard library.
