package com.mobilespeech.demo

import android.content.Context
import java.io.File
import java.io.IOException

/**
 * Copies the model bundle shipped in the APK (assets/bundle/, put there by build_android.sh) to
 * filesDir/bundle on first run, because the native library reads files by path. A later APK
 * with a different bundle (a different manifest.json, which lists every file's sha256) replaces
 * it. Run it off the UI thread.
 */
object BundleInstaller {
    private const val ASSET_DIR = "bundle"

    /** filesDir/bundle, installed or refreshed from the assets; null when the APK has no bundle. */
    @Throws(IOException::class)
    fun installFromAssets(context: Context): File? {
        val assets = context.assets
        val names = assets.list(ASSET_DIR)?.toList().orEmpty()
        if ("manifest.json" !in names) return null
        val dest = File(context.filesDir, ASSET_DIR)
        val shipped = assets.open("$ASSET_DIR/manifest.json").use { it.readBytes() }
        val installed = File(dest, "manifest.json")
        if (installed.isFile && installed.readBytes().contentEquals(shipped)) return dest

        // Copy into a fresh folder, then swap it in: an interrupted copy never looks installed.
        val tmp = File(context.filesDir, "$ASSET_DIR.tmp")
        tmp.deleteRecursively()
        if (!tmp.mkdirs()) throw IOException("cannot create $tmp")
        for (name in names) {
            assets.open("$ASSET_DIR/$name").use { input ->
                File(tmp, name).outputStream().use { input.copyTo(it, 1 shl 16) }
            }
        }
        dest.deleteRecursively()
        if (!tmp.renameTo(dest)) throw IOException("cannot move $tmp to $dest")
        return dest
    }

    /** Where `adb push` can put a bundle without root: /sdcard/Android/data/<app>/files/bundle. */
    fun externalBundleDir(context: Context): File? = context.getExternalFilesDir(null)?.let { File(it, ASSET_DIR) }

    fun isBundle(dir: File?): Boolean = dir != null && File(dir, "manifest.json").isFile
}
