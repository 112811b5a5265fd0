// Runtime permissions as suspend functions for the presentation layer. A permission dialog needs
// an Activity: MainActivity attaches its ActivityResultLaunchers here while it exists; a request
// without an Activity on screen answers with the current state.
package org.linnet.app.platform

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import androidx.activity.result.ActivityResultLauncher
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.linnet.app.presentation.NotificationPermission

/** One runtime permission asked through an Activity's launcher, one request at a time. */
class PermissionAsker(private val context: Context, private val permission: String) {
    private var launcher: ActivityResultLauncher<String>? = null
    private var pending: CompletableDeferred<Boolean>? = null

    fun isGranted(): Boolean =
        ContextCompat.checkSelfPermission(context, permission) == PackageManager.PERMISSION_GRANTED

    /** From MainActivity.onCreate (registerForActivityResult(RequestPermission())) ... */
    fun attach(launcher: ActivityResultLauncher<String>) {
        this.launcher = launcher
    }

    /**
     * ... and onDestroy. When the Activity goes for good, a pending request ends with the current
     * state; on a configuration change it waits: the new Activity's launcher gets the answer.
     */
    fun detach(launcher: ActivityResultLauncher<String>, finishing: Boolean) {
        if (this.launcher === launcher) this.launcher = null
        if (finishing) {
            pending?.complete(isGranted())
            pending = null
        }
    }

    /** The launcher's callback. */
    fun onResult(granted: Boolean) {
        pending?.complete(granted)
        pending = null
    }

    suspend fun request(): Boolean = withContext(Dispatchers.Main) {
        if (isGranted()) return@withContext true
        val launcher = launcher ?: return@withContext false
        pending?.let { return@withContext it.await() }
        val answer = CompletableDeferred<Boolean>()
        pending = answer
        launcher.launch(permission)
        answer.await()
    }
}

/**
 * Notifications: POST_NOTIFICATIONS at runtime on Android 13+; before, only the user's switch in
 * the system settings (which no dialog can change).
 */
class AndroidNotificationPermission(private val context: Context) : NotificationPermission {
    val asker: PermissionAsker? =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            PermissionAsker(context, Manifest.permission.POST_NOTIFICATIONS)
        } else {
            null
        }

    override suspend fun isGranted(): Boolean =
        NotificationManagerCompat.from(context).areNotificationsEnabled() && (asker?.isGranted() ?: true)

    override suspend fun request(): Boolean {
        val asker = asker ?: return isGranted()
        return asker.request() && isGranted()
    }
}
