// Files between the app and the system: a picked document (content:// URI) copied into the
// cache so the SDK gets a plain path for sendFile; the redacted log shared through the share
// sheet (FileProvider, text/plain).
package org.linnet.app.platform

import android.content.ActivityNotFoundException
import android.content.ClipData
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.provider.OpenableColumns
import androidx.core.content.FileProvider
import java.io.File
import java.util.UUID
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

object Files {
    /**
     * Copies the picked document into cache/outgoing/<random>/<its name> and returns the path,
     * or null when it cannot be read. The file keeps its name: the SDK sends it as the file name.
     */
    suspend fun copyToCache(context: Context, uri: Uri): String? = withContext(Dispatchers.IO) {
        val resolver = context.contentResolver
        val name = runCatching {
            resolver.query(uri, arrayOf(OpenableColumns.DISPLAY_NAME), null, null, null)?.use { cursor ->
                if (cursor.moveToFirst()) cursor.getString(0) else null
            }
        }.getOrNull()?.let(::safeName) ?: uri.lastPathSegment?.let(::safeName) ?: "file"
        val dir = File(context.cacheDir, "outgoing/${UUID.randomUUID()}").apply { mkdirs() }
        val target = File(dir, name)
        try {
            val input = resolver.openInputStream(uri) ?: return@withContext null
            input.use { src -> target.outputStream().use { dst -> src.copyTo(dst) } }
            target.absolutePath
        } catch (e: Exception) {
            dir.deleteRecursively()
            null
        }
    }

    /** A name without path separators or leading dots (it becomes a file in our cache). */
    private fun safeName(name: String): String? =
        name.substringAfterLast('/').replace(Regex("[\\\\:*?\"<>|\\u0000]"), "_").trimStart('.').take(120)
            .ifBlank { null }

    /**
     * Opens a received or sent file with the app the user chooses (ACTION_VIEW through the
     * FileProvider). False when it cannot: not a file we may share, or no app for its type.
     */
    fun open(context: Context, path: String, mediaType: String?): Boolean {
        val uri = try {
            FileProvider.getUriForFile(context, "${context.packageName}.files", File(path))
        } catch (e: IllegalArgumentException) {
            return false // outside the shared folders
        }
        val view = Intent(Intent.ACTION_VIEW)
            .setDataAndType(uri, mediaType ?: "application/octet-stream")
            .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        if (context !is android.app.Activity) view.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
        return try {
            context.startActivity(view)
            true
        } catch (e: ActivityNotFoundException) {
            false
        }
    }

    /**
     * Writes the redacted log into cache/logs/ (the only place the FileProvider shares) and opens
     * the share sheet for it.
     */
    suspend fun shareLog(context: Context, fileName: String, text: String) {
        val file = withContext(Dispatchers.IO) {
            val dir = File(context.cacheDir, "logs").apply { mkdirs() }
            dir.listFiles()?.forEach { it.delete() } // only the latest export stays
            File(dir, safeName(fileName) ?: "linnet-log.txt").apply { writeText(text) }
        }
        val uri = FileProvider.getUriForFile(context, "${context.packageName}.files", file)
        val send = Intent(Intent.ACTION_SEND)
            .setType("text/plain")
            .putExtra(Intent.EXTRA_STREAM, uri)
            .putExtra(Intent.EXTRA_SUBJECT, fileName)
            .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        send.clipData = ClipData.newRawUri(fileName, uri) // the share sheet's preview, and the grant
        val chooser = Intent.createChooser(send, context.getString(org.linnet.app.R.string.share_log_title))
        if (context !is android.app.Activity) chooser.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
        context.startActivity(chooser)
    }
}
