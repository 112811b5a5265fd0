import Linnet
import SwiftUI

/// People asking to see your status (approve / deny), the address book, and adding a contact.
struct ContactsView: View {
    let model: ContactsModel
    /// Opens the conversation with a contact.
    let openChat: (String) -> Void

    @State private var adding = false

    var body: some View {
        List {
            if let error = model.error {
                Section {
                    ErrorBanner(text: error, dismiss: model.dismissError)
                }
            }
            if !model.requests.isEmpty {
                Section("Requests") {
                    ForEach(model.requests) { request in
                        HStack {
                            ContactRowView(contact: request)
                            Spacer()
                            Button("Deny", role: .destructive) { model.deny(request.jid) }
                                .buttonStyle(.bordered)
                            Button("Approve") { model.approve(request.jid) }
                                .buttonStyle(.borderedProminent)
                        }
                    }
                }
            }
            Section("Contacts") {
                ForEach(model.contacts) { contact in
                    Button {
                        openChat(contact.jid)
                    } label: {
                        ContactRowView(contact: contact)
                    }
                    .buttonStyle(.plain)
                    .swipeActions {
                        Button("Remove", role: .destructive) {
                            Task { await model.remove(contact.jid) }
                        }
                    }
                    .contextMenu {
                        Button("Remove", role: .destructive) {
                            Task { await model.remove(contact.jid) }
                        }
                    }
                }
            }
        }
        .overlay {
            if model.contacts.isEmpty && model.requests.isEmpty {
                ContentUnavailableView(
                    "No contacts yet", systemImage: "person.2",
                    description: Text("Add someone by their address."))
            }
        }
        .navigationTitle("Contacts")
        .toolbar {
            ToolbarItem(placement: .primaryAction) {
                Button {
                    adding = true
                } label: {
                    Label("Add contact", systemImage: "person.badge.plus")
                }
            }
        }
        .sheet(isPresented: $adding) {
            AddContactSheet(model: model)
        }
    }
}

struct ContactRowView: View {
    let contact: ContactRow

    var body: some View {
        HStack(spacing: 12) {
            PresenceAvatar(title: contact.name, presence: contact.presence, size: 36)
            VStack(alignment: .leading, spacing: 2) {
                Text(contact.name)
                    .font(.body.weight(.medium))
                    .lineLimit(1)
                if contact.name != contact.jid {
                    Text(contact.jid)
                        .font(.caption)
                        .foregroundStyle(.secondary)
                        .lineLimit(1)
                }
                if let status = contact.statusText {
                    Text(status)
                        .font(.caption)
                        .lineLimit(1)
                }
                if let subscription = contact.subscriptionText {
                    Text(subscription)
                        .font(.caption2)
                        .foregroundStyle(.orange)
                }
            }
        }
        .accessibilityElement(children: .combine)
        .accessibilityValue(contact.presenceText)
    }
}

struct AddContactSheet: View {
    let model: ContactsModel
    @Environment(\.dismiss) private var dismiss
    @State private var address = ""
    @State private var name = ""

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    TextField("Address", text: $address, prompt: Text("name@example.org"))
                        .autocorrectionDisabled()
                    TextField("Name (optional)", text: $name)
                } footer: {
                    Text("They are asked to share their status with you.")
                }
                if let error = model.error {
                    Section {
                        Label(error, systemImage: "exclamationmark.triangle.fill")
                            .foregroundStyle(.red)
                    }
                }
            }
            .formStyle(.grouped)
            .navigationTitle("Add contact")
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel") { dismiss() }
                }
                ToolbarItem(placement: .confirmationAction) {
                    if model.busy {
                        ProgressView()
                    } else {
                        Button("Add") {
                            Task {
                                if await model.add(jid: address, name: name) { dismiss() }
                            }
                        }
                        .disabled(address.isEmpty)
                    }
                }
            }
        }
        .onAppear { model.dismissError() }
    }
}
