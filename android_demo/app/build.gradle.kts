plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.mobilespeech.demo"
    compileSdk = 34
    // The NDK of the :sdk module, used here to strip the native libraries the app packages.
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
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            // The names JNI binds are kept by the :sdk module's consumer rules.
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
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

dependencies {
    // The SDK: MobileSpeech.kt + libmobilespeech_jni.so + libmobilespeech.so (android_demo/sdk).
    implementation(project(":sdk"))
}
// Nothing else beyond the Kotlin standard library: the screen uses platform Views.
