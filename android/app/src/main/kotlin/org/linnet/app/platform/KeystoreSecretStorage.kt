// Account passwords for the SDK (its SecretStorage foreign trait), encrypted with an AES-256/GCM
// key that lives in the Android Keystore (never leaves it; hardware-backed where the device has
// it). The ciphertext (IV + sealed bytes, Base64) is in a private SharedPreferences file.
package org.linnet.app.platform

import android.content.Context
import android.content.SharedPreferences
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import android.util.Log
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.linnet.sdk.SecretStorage

class KeystoreSecretStorage(context: Context) : SecretStorage {
    private val prefs: SharedPreferences =
        context.applicationContext.getSharedPreferences(PREFS, Context.MODE_PRIVATE)
    private val lock = Any()

    override fun get(account: String): String? {
        synchronized(lock) {
            val stored = prefs.getString(prefKey(account), null) ?: return null
            // An entry this device's key cannot open (the Keystore key was lost or reset, the
            // file came from another device) counts as no password: the user signs in again.
            // Throwing would reach the SDK as a failed callback, which its trait does not allow.
            return try {
                val bytes = Base64.decode(stored, Base64.NO_WRAP)
                if (bytes.size <= IV_BYTES) return null
                val cipher = Cipher.getInstance(TRANSFORMATION)
                cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, bytes, 0, IV_BYTES))
                // The account is authenticated data: a ciphertext copied to another account's entry fails.
                cipher.updateAAD(account.toByteArray(Charsets.UTF_8))
                String(cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES), Charsets.UTF_8)
            } catch (e: GeneralSecurityException) {
                Log.w(TAG, "stored password unreadable", e)
                null
            } catch (e: IllegalArgumentException) {
                Log.w(TAG, "stored password malformed", e)
                null
            }
        }
    }

    override fun set(account: String, secret: String): Unit = synchronized(lock) {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // The Keystore chooses the IV (randomized encryption is required for its keys).
        cipher.init(Cipher.ENCRYPT_MODE, key())
        cipher.updateAAD(account.toByteArray(Charsets.UTF_8))
        val sealed = cipher.doFinal(secret.toByteArray(Charsets.UTF_8))
        val iv = cipher.iv
        check(iv.size == IV_BYTES) { "unexpected GCM IV length ${iv.size}" }
        val stored = Base64.encodeToString(iv + sealed, Base64.NO_WRAP)
        // commit, not apply: the SDK expects the secret stored when set() returns.
        check(prefs.edit().putString(prefKey(account), stored).commit()) { "could not write $PREFS" }
    }

    override fun delete(account: String) {
        synchronized(lock) { prefs.edit().remove(prefKey(account)).commit() }
    }

    private fun key(): SecretKey {
        val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (keyStore.getKey(KEY_ALIAS, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(KEY_ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
                .build(),
        )
        return generator.generateKey()
    }

    private fun prefKey(account: String) = "secret:$account"

    private companion object {
        const val TAG = "LinnetSecrets"
        const val PREFS = "linnet_secrets"
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val KEY_ALIAS = "linnet.account-secrets"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
