plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.mobilespeech.demo"
    compileSdk = 34
    // NDK r27c. build_android.sh must use the same NDK for libmobilespeech.so (one libc++_shared).
    ndkVersion = "27.2.12479018"

    defaultConfig {
        applicationId = "com.mobilespeech.demo"
        minSdk = 26
        targetSdk = 34
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            abiFilters += listOf("arm64-v8a")
        }
        externalNativeBuild {
            cmake {
                arguments += listOf("-DANDROID_STL=c++_shared")
            }
        }
    }

    externalNativeBuild {
        cmake {
            path = file("src/main/cpp/CMakeLists.txt")
            version = "3.22.1"
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            // Keeps the names JNI binds (used when minification is turned on).
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
            // Demo only: sign release builds with the debug key so that they install.
            signingConfig = signingConfigs.getByName("debug")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions {
        jvmTarget = "17"
    }

    // The model bundle (assets/bundle/, copied there by build_android.sh) is copied to filesDir
    // on first run; storing it uncompressed makes that copy a plain read.
    androidResources {
        noCompress += listOf("pte", "json", "wav")
    }
}

// No dependencies beyond the Kotlin standard library: the screen uses platform Views.
