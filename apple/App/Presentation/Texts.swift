// Every user-facing string that more than one model needs: sizes, times, durations, presence, and
// the user text of each SDK error. English; the views only render what the models produce.
import Foundation
import Linnet

enum Texts {
    // MARK: Sizes

    /// "512 bytes", "12 KB", "1.5 MB", "10 MB" (1 KB = 1024 bytes, as upload limits are set).
    static func size(_ bytes: UInt64) -> String {
        if bytes < 1024 { return bytes == 1 ? "1 byte" : "\(bytes) bytes" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = (value * 10).rounded() / 10
        let number = rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
        return "\(number) \(units[unit])"
    }

    static func percent(_ fraction: Double) -> String {
        "\(Int((min(max(fraction, 0), 1) * 100).rounded(.down)))%"
    }

    // MARK: Times

    /// "0:42", "12:05", "1:02:03".
    static func duration(seconds: UInt64) -> String {
        let hours = seconds / 3600, minutes = (seconds % 3600) / 60, secs = seconds % 60
        let twoDigits = { (n: UInt64) in n < 10 ? "0\(n)" : "\(n)" }
        if hours > 0 { return "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" }
        return "\(minutes):\(twoDigits(secs))"
    }

    static func date(unixMs: Int64) -> Date {
        Date(timeIntervalSince1970: Double(unixMs) / 1000)
    }

    private static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = format
        return formatter
    }

    /// A message's time of day: "14:05".
    static func timeOfDay(_ date: Date) -> String {
        formatter("HH:mm").string(from: date)
    }

    /// "6 May 2024, 14:05".
    static func dateTime(_ date: Date) -> String {
        formatter("d MMM yyyy, HH:mm").string(from: date)
    }

    /// A chat row's last activity: the time today, "Yesterday", the weekday this week, else the date.
    static func lastActivity(_ date: Date, now: Date = Date()) -> String {
        let calendar = Calendar.current
        if calendar.isDate(date, inSameDayAs: now) { return timeOfDay(date) }
        if let yesterday = calendar.date(byAdding: .day, value: -1, to: now), calendar.isDate(date, inSameDayAs: yesterday) {
            return "Yesterday"
        }
        if let weekAgo = calendar.date(byAdding: .day, value: -6, to: now), date > weekAgo, date < now {
            return formatter("EEEE").string(from: date)
        }
        return formatter("d MMM yyyy").string(from: date)
    }

    /// A timeline day separator: "Today", "Yesterday", "Monday, 6 May 2024". The SDK gives the day
    /// as "YYYY-MM-DD"; anything else is shown as it came.
    static func day(_ day: String, now: Date = Date()) -> String {
        guard let date = formatter("yyyy-MM-dd").date(from: day) else { return day }
        let calendar = Calendar.current
        if calendar.isDate(date, inSameDayAs: now) { return "Today" }
        if let yesterday = calendar.date(byAdding: .day, value: -1, to: now), calendar.isDate(date, inSameDayAs: yesterday) {
            return "Yesterday"
        }
        return formatter("EEEE, d MMMM yyyy").string(from: date)
    }

    // MARK: Presence

    static func presence(_ availability: Availability) -> String {
        switch availability {
        case .online: return "Online"
        case .away: return "Away"
        case .extendedAway: return "Away for a while"
        case .doNotDisturb: return "Do not disturb"
        case .offline: return "Offline"
        }
    }

    // MARK: Errors

    /// The user text of any error an SDK call throws. Unknown errors get a generic sentence: the
    /// technical detail goes to the log export, not to the user.
    static func error(_ error: any Error) -> String {
        switch error {
        case let error as ChatError: return chat(error)
        case let error as ContactError: return contact(error)
        case let error as CallError: return call(error)
        case let error as PushError: return push(error)
        case let error as DiagnosticsError: return diagnostics(error)
        case let error as AccountError: return account(error)
        case let error as ConnectError: return connect(error)
        default: return "Something went wrong. Please try again."
        }
    }

    static let notConnected = "You are offline. Try again when connected."
    static let storage = "This device's storage could not be used. Check that there is free space."
    static let unexpected = "Something went wrong. Please try again."

    static func chat(_ error: ChatError) -> String {
        switch error {
        case .InvalidAddress(let input): return "“\(input)” is not a valid address."
        case .EmptyMessage: return "Type a message first."
        case .TooLarge(_, let limit): return "This message is too long (max \(size(limit)))."
        case .NotConnected: return notConnected
        case .FileUnreadable(let path, _):
            return "“\(fileName(path))” could not be read. It may have been moved or deleted."
        case .FileTooLarge(let bytes, let max):
            return "This file is too large (\(size(bytes)); max \(size(max)))."
        case .NoSuchMessage: return "This message no longer exists."
        case .NoAttachment: return "This message has no file."
        case .Storage: return storage
        case .Internal: return unexpected
        }
    }

    static func contact(_ error: ContactError) -> String {
        switch error {
        case .InvalidAddress(let input): return "“\(input)” is not a valid address. It looks like name@example.org."
        case .NotConnected: return notConnected
        case .Refused: return "The server refused this change to your contacts."
        case .Timeout: return "The server did not answer in time. Please try again."
        case .Storage: return storage
        case .Internal: return unexpected
        }
    }

    static func call(_ error: CallError) -> String {
        switch error {
        case .InvalidAddress(let input): return "“\(input)” is not an address or phone number that can be called."
        case .NotConnected: return notConnected
        case .NoSuchCall: return "This call has already ended."
        case .CallNotRinging: return "This call is no longer ringing."
        case .CallNotConnected: return "The call is not connected yet."
        case .CallInProgress: return "Finish the current call first."
        case .NoPhoneGateway: return "Your server offers no phone gateway, so phone numbers cannot be called."
        case .NoTurnServer: return "Relay-only calls are on, but your server offers no relay. Turn off relay-only calls in Settings."
        case .Media: return "The call audio could not start."
        case .InvalidDigits: return "Only 0–9, *, # and A–D can be sent as keypad tones."
        case .Refused: return "The call was refused."
        case .Timeout: return "The call did not connect in time."
        case .Storage: return storage
        case .Internal: return unexpected
        }
    }

    static func push(_ error: PushError) -> String {
        switch error {
        case .InvalidAddress(let input): return "The notification server address “\(input)” is not valid."
        case .AppServerUnavailable: return "The notification server cannot be reached."
        case .Refused: return "Your server refused to turn on notifications."
        case .NotConnected: return notConnected
        case .Storage: return storage
        case .Internal: return unexpected
        }
    }

    static func diagnostics(_ error: DiagnosticsError) -> String {
        switch error {
        case .NotConnected: return "Connect first: the check asks the server."
        case .Timeout: return "The server did not answer in time. Please try again."
        case .Storage: return storage
        case .Internal: return unexpected
        }
    }

    static func account(_ error: AccountError) -> String {
        switch error {
        case .InvalidAddress(let input): return "“\(input)” is not a valid address. It looks like name@example.org."
        case .AccountExists(let jid): return "\(jid) is already signed in on this device."
        case .NoSuchAccount, .NoAccount: return "No account is signed in."
        case .AmbiguousAccount: return "More than one account is signed in."
        case .Storage: return storage
        case .SecretStorage: return "The password could not be stored in the keychain."
        case .Internal: return unexpected
        }
    }

    static func connect(_ error: ConnectError) -> String {
        switch error {
        case .WrongCredentials: return "The address or password is wrong."
        case .AuthFailed: return "The server did not accept a secure way to sign in."
        case .NoPassword: return "No password is stored for this account. Sign in again."
        case .Certificate: return "The server's certificate is not trusted. The connection may not be private."
        case .Tls: return "A secure connection to the server could not be made."
        case .Network: return "The server cannot be reached. Check the address and your internet connection."
        case .Server: return "The server had a problem. Please try again later."
        case .Timeout: return "The server did not answer in time."
        case .Storage: return storage
        case .Internal: return unexpected
        }
    }

    static func fileName(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return name.isEmpty ? path : name
    }
}
