// Small pieces the screens share.
import Linnet
import SwiftUI

/// A binding over a model value that changes only through the model's setter. The value is read
/// in the caller's body, so that the view is observed and redrawn when the model changes.
@MainActor
func modelBinding<Value>(_ value: Value, _ set: @escaping @MainActor (Value) -> Void) -> Binding<Value> {
    Binding(get: { value }, set: { newValue in set(newValue) })
}

/// A message's delivery status as an icon (the text next to it comes from the model).
struct StatusIcon: View {
    let status: MessageStatus

    var body: some View {
        switch status {
        case .sending:
            Image(systemName: "clock")
        case .sent:
            Image(systemName: "checkmark")
        case .delivered:
            Image(systemName: "checkmark.circle")
        case .read:
            Image(systemName: "checkmark.circle.fill")
        case .failed:
            Image(systemName: "exclamationmark.circle.fill")
                .foregroundStyle(.red)
        case .received:
            EmptyView()
        }
    }
}

/// The initial of a name with a presence dot.
struct PresenceAvatar: View {
    let title: String
    let presence: Availability
    var size: CGFloat = 40

    var body: some View {
        ZStack(alignment: .bottomTrailing) {
            Circle()
                .fill(.tint.opacity(0.2))
                .frame(width: size, height: size)
                .overlay {
                    Text(title.prefix(1).uppercased())
                        .font(.system(size: size * 0.45, weight: .semibold))
                        .foregroundStyle(.tint)
                }
            Circle()
                .fill(PresenceAvatar.color(presence))
                .frame(width: size * 0.3, height: size * 0.3)
                .overlay { Circle().stroke(.background, lineWidth: 2) }
        }
        .accessibilityHidden(true)
    }

    static func color(_ presence: Availability) -> Color {
        switch presence {
        case .online: return .green
        case .away, .extendedAway: return .orange
        case .doNotDisturb: return .red
        case .offline: return .gray
        }
    }
}

/// A failed action's sentence with a way to dismiss it.
struct ErrorBanner: View {
    let text: String
    let dismiss: () -> Void

    var body: some View {
        HStack(alignment: .top) {
            Image(systemName: "exclamationmark.triangle.fill")
                .foregroundStyle(.red)
            Text(text)
                .frame(maxWidth: .infinity, alignment: .leading)
            Button(action: dismiss) {
                Image(systemName: "xmark")
            }
            .buttonStyle(.borderless)
            .accessibilityLabel("Dismiss")
        }
        .font(.callout)
        .padding(10)
        .background(.red.opacity(0.1), in: RoundedRectangle(cornerRadius: 10))
    }
}
