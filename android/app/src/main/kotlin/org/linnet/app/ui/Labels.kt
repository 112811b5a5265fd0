// The fixed words of the screens' chrome (titles, buttons, field labels). Everything that
// depends on state (errors, statuses, banners, progress, times) comes from the presentation
// models; these are the constant labels around it, in one place, in English like the models.
package org.linnet.app.ui

object Labels {
    const val appName = "Linnet"

    // Sign-in
    const val signInTitle = "Sign in"
    const val signInIntro = "Sign in with your XMPP address and password."
    const val address = "Address"
    const val addressHint = "name@example.org"
    const val password = "Password"
    const val showPassword = "Show password"
    const val hidePassword = "Hide password"
    const val advanced = "Advanced"
    const val serverHost = "Server host (optional)"
    const val serverPort = "Port (optional)"
    const val extraCa = "Extra certificate authority, PEM (optional)"
    const val signIn = "Sign in"

    // Chat list
    const val chats = "Chats"
    const val noChats = "No conversations yet. Start one from your contacts."
    const val retry = "Retry"
    const val contacts = "Contacts"
    const val settings = "Settings"
    const val about = "About"
    const val newChat = "New chat"

    // Conversation
    const val back = "Back"
    const val messageField = "Message"
    const val send = "Send"
    const val attach = "Attach a file"
    const val call = "Call"
    const val download = "Download"
    const val cancel = "Cancel"
    const val loadOlder = "Load older messages"
    const val dismiss = "Dismiss"
    const val open = "Open"
    const val typing = "typing…"
    const val fileUnreadable = "This file cannot be read."
    const val cannotOpen = "No app on this device can open this file."

    // Contacts
    const val requests = "Requests"
    const val approve = "Approve"
    const val deny = "Deny"
    const val remove = "Remove"
    const val addContact = "Add contact"
    const val name = "Name (optional)"
    const val add = "Add"
    const val message = "Message"
    const val noContacts = "No contacts yet."

    // Calls
    const val mute = "Mute"
    const val unmute = "Unmute"
    const val speaker = "Speaker"
    const val keypad = "Keypad"
    const val hangUp = "Hang up"
    const val answer = "Answer"
    const val decline = "Decline"
    const val close = "Close"
    const val callSomeone = "Call"
    const val callTo = "Address or phone number"
    const val callLog = "Recent calls"

    // Settings
    const val notifications = "Notifications"
    const val notificationsOn = "Show notifications"
    const val notificationPreview = "Notification preview"
    const val privacy = "Privacy"
    const val sendTyping = "Send typing notifications"
    const val sendReadMarkers = "Send read receipts"
    const val calls = "Calls"
    const val relayOnly = "Relay-only calls (hide your IP address)"
    const val downloads = "Automatic downloads"
    const val signOut = "Sign out"

    // About / diagnostics
    const val diagnostics = "Diagnostics"
    const val privacyStatement = "No analytics, no tracking. Linnet talks only to your XMPP server " +
        "(and, when you turn notifications on, to its push service)."
    const val version = "Version"
    const val connection = "Connection"
    const val serverFeatures = "Server features"
    const val runDoctor = "Check the server"
    const val shareLog = "Share the redacted log"
    const val shareLogNote = "Passwords and message texts are removed from the log before it is shared."
}
