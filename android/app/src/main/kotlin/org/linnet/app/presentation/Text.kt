// The words and numbers users see, in one place: formatting of sizes, durations, times and
// presence, so every model says things the same way (and tests can assert them).
package org.linnet.app.presentation

import org.linnet.sdk.Availability
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale

object Text {
    private const val KB = 1024.0
    private const val MB = 1024.0 * 1024.0
    private const val GB = 1024.0 * 1024.0 * 1024.0

    /** "512 B", "1.5 KB", "10 MB", "2.1 GB": one decimal below 10, none above. */
    fun size(bytes: Long): String = when {
        bytes < 1024 -> "$bytes B"
        bytes < MB -> scaled(bytes / KB, "KB")
        bytes < GB -> scaled(bytes / MB, "MB")
        else -> scaled(bytes / GB, "GB")
    }

    private fun scaled(value: Double, unit: String): String =
        if (value < 10 && value != Math.floor(value)) String.format(Locale.US, "%.1f %s", value, unit)
        else String.format(Locale.US, "%.0f %s", value, unit)

    /** "0:42", "12:05", "1:02:03". */
    fun duration(seconds: Long): String {
        val s = seconds.coerceAtLeast(0)
        val hours = s / 3600
        val minutes = (s % 3600) / 60
        val secs = s % 60
        return if (hours > 0) String.format(Locale.US, "%d:%02d:%02d", hours, minutes, secs)
        else String.format(Locale.US, "%d:%02d", minutes, secs)
    }

    private val clock = DateTimeFormatter.ofPattern("HH:mm", Locale.US)
    private val dayInYear = DateTimeFormatter.ofPattern("MMM d", Locale.US)
    private val fullDay = DateTimeFormatter.ofPattern("MMM d, yyyy", Locale.US)

    /** A chat list time: "14:05" today, "Yesterday", "Nov 3" this year, else "Nov 3, 2025". */
    fun whenShort(epochMs: Long, zone: ZoneId = ZoneId.systemDefault(), today: LocalDate = LocalDate.now(zone)): String {
        val at = Instant.ofEpochMilli(epochMs).atZone(zone)
        val day = at.toLocalDate()
        return when {
            day == today -> clock.format(at)
            day == today.minusDays(1) -> "Yesterday"
            day.year == today.year -> dayInYear.format(at)
            else -> fullDay.format(at)
        }
    }

    /** A message's time of day: "14:05" (the date is on the separator above it). */
    fun timeOfDay(epochMs: Long, zone: ZoneId = ZoneId.systemDefault()): String =
        clock.format(Instant.ofEpochMilli(epochMs).atZone(zone))

    fun presence(availability: Availability): String = when (availability) {
        Availability.ONLINE -> "Online"
        Availability.AWAY -> "Away"
        Availability.EXTENDED_AWAY -> "Away for a while"
        Availability.DO_NOT_DISTURB -> "Do not disturb"
        Availability.OFFLINE -> "Offline"
    }

    /** The part before the @ of an address, for a name when there is none. */
    fun localPart(jid: String): String = jid.substringBefore('@').ifEmpty { jid }

    /** A date separator's day ("2026-11-26" from the SDK) in words: "Today", "Yesterday", "Nov 3". */
    fun day(isoDay: String, zone: ZoneId = ZoneId.systemDefault(), today: LocalDate = LocalDate.now(zone)): String {
        val day = runCatching { LocalDate.parse(isoDay) }.getOrNull() ?: return isoDay
        return when {
            day == today -> "Today"
            day == today.minusDays(1) -> "Yesterday"
            day.year == today.year -> dayInYear.format(day)
            else -> fullDay.format(day)
        }
    }
}
