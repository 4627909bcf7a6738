#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A user as the passwd database knows it.
public struct UserEntry: Sendable, Equatable {
    public var name: String
    public var uid: UInt32
    /// The primary group.
    public var gid: UInt32
    public var home: String

    public init(name: String, uid: UInt32, gid: UInt32, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }

    /// The entry named `name`, or nil when there is none.
    public static func named(_ name: String) -> UserEntry? {
        lookUp { getpwnam_r(name, &$0, $1, $2, &$3) }
    }

    /// The entry of `uid` (its first name), or nil when there is none.
    public static func withID(_ uid: UInt32) -> UserEntry? {
        lookUp { getpwuid_r(uid, &$0, $1, $2, &$3) }
    }

    private static func lookUp(_ call: (inout passwd, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<passwd>?) -> Int32)
        -> UserEntry? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var size = 1024
        while size <= 1 << 20 {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let rc = call(&entry, buffer, size, &found)
            if rc == ERANGE {
                size *= 4
                continue
            }
            guard rc == 0, found != nil else { return nil }
            return UserEntry(name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid,
                             home: String(cString: entry.pw_dir))
        }
        return nil
    }

    /// The groups the user belongs to, its primary `gid` included, as login would set them.
    public func groups(primary gid: UInt32) -> [UInt32] {
        var count: Int32 = 32
        while count <= 65_536 {
            var list = [gid_t](repeating: 0, count: Int(count))
            var wanted = count
            if getgrouplist(name, gid, &list, &wanted) >= 0 { return Array(list.prefix(Int(wanted))) }
            count = max(wanted, count * 2)
        }
        return [gid]
    }
}

/// The config's `run_as`: whom an architecture's spawned command runs as when archbench is root.
public enum RunAs: Sendable, Equatable, CustomStringConvertible {
    /// `"root"`: keep root, under sudo too.
    case root
    /// A user by name or uid, resolved when the config was read.
    case user(UserEntry)

    /// "root", a user name or a uid the passwd database knows; nil when it knows none.
    public static func lookUp(_ text: String) -> RunAs? {
        if text == "root" { return .root }
        let entry = !text.isEmpty && text.allSatisfy(\.isNumber)
            ? UInt32(text).flatMap(UserEntry.withID) : UserEntry.named(text)
        return entry.map { $0.uid == 0 ? .root : .user($0) }
    }

    public var description: String {
        switch self {
        case .root: "root"
        case .user(let entry): "\(entry.name) (uid \(entry.uid))"
        }
    }
}

/// Who a spawned target runs as when it is not archbench's own identity: the child sets its groups,
/// then its gid, then its uid (real, effective and saved) before exec.
public struct TargetIdentity: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    /// The supplementary groups, replacing root's.
    public var groups: [UInt32]
    /// The passwd entry, when the uid has one: HOME, USER and LOGNAME are set from it.
    public var user: UserEntry?
    /// Why this identity: `run_as`, or the user sudo was run by.
    public var reason: String

    public init(uid: UInt32, gid: UInt32, groups: [UInt32], user: UserEntry?, reason: String) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.user = user
        self.reason = reason
    }

    public var description: String {
        "uid \(uid)\(user.map { " (\($0.name))" } ?? ""), gid \(gid), \(reason)"
    }

    /// archbench's environment as the target should see it: HOME, USER and LOGNAME of the target
    /// user, as su and runuser set them (under sudo HOME is root's, which the user cannot use).
    public func environment(from base: [String: String]) -> [String: String] {
        guard let user else { return base }
        var environment = base
        environment["HOME"] = user.home
        environment["USER"] = user.name
        environment["LOGNAME"] = user.name
        return environment
    }

    /// Whom a spawned target runs as, or nil for archbench's own identity. As root: the config's
    /// `runAs` when given ("root" keeps root); otherwise, under sudo (`SUDO_UID`, and `SUDO_GID`, in
    /// the environment), the user who ran sudo; otherwise root. Not as root: archbench's own
    /// identity, and a `runAs` naming anyone else is an error, since only root can switch.
    /// `setting` names the config key in messages (`microservices.run_as`).
    public static func resolve(runAs: RunAs?, setting: String, euid: UInt32 = geteuid(),
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TargetIdentity? {
        guard euid == 0 else {
            switch runAs {
            case nil: return nil
            case .user(let entry) where entry.uid == euid: return nil
            case let other?:
                throw ArchbenchError.environment(
                    "\(setting) \(other) needs archbench to run as root to start the command as that user; it runs as uid \(euid)")
            }
        }
        switch runAs {
        case .root?:
            return nil
        case .user(let entry)?:
            if entry.uid == 0 { return nil }
            return TargetIdentity(uid: entry.uid, gid: entry.gid, groups: entry.groups(primary: entry.gid), user: entry,
                                  reason: "as \(setting) says")
        case nil:
            guard let text = environment["SUDO_UID"] else { return nil }
            // A SUDO_UID that is not a uid is not silently taken as "no sudo": the target would run as root.
            guard let uid = UInt32(text) else {
                throw ArchbenchError.environment("SUDO_UID=\(text) is not a user id; set \(setting) to say whom the command runs as")
            }
            if uid == 0 { return nil }
            let user = UserEntry.withID(uid)
            let gid: UInt32
            if let gidText = environment["SUDO_GID"] {
                guard let parsed = UInt32(gidText) else {
                    throw ArchbenchError.environment("SUDO_GID=\(gidText) is not a group id; set \(setting) to say whom the command runs as")
                }
                gid = parsed
            } else if let user {
                gid = user.gid
            } else {
                throw ArchbenchError.environment(
                    "SUDO_UID=\(uid) has no passwd entry and SUDO_GID is not set: cannot tell its group; set \(setting)")
            }
            return TargetIdentity(uid: uid, gid: gid, groups: user?.groups(primary: gid) ?? [gid], user: user,
                                  reason: "the user who ran sudo (\(setting) changes it)")
        }
    }
}
