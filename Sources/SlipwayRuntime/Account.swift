#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Users and groups as this host knows them (the passwd and group databases, through NSS).
enum Account {
    struct User {
        var uid: UInt32
        var gid: UInt32
        /// nil for a number the passwd database does not know.
        var name: String?
        var home: String?
    }

    /// A login name, or a uid (a number unknown to passwd is taken as it is, its group the same number).
    static func user(_ nameOrID: String) -> User? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let id = UInt32(nameOrID)
        let rc = id.map { getpwuid_r(uid_t($0), &entry, &buffer, buffer.count, &result) } ?? getpwnam_r(nameOrID, &entry, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return id.map { User(uid: $0, gid: $0) } }
        return User(uid: entry.pw_uid, gid: entry.pw_gid, name: String(cString: entry.pw_name), home: String(cString: entry.pw_dir))
    }

    /// A group name, or a gid.
    static func groupID(_ nameOrID: String) -> UInt32? {
        if let id = UInt32(nameOrID) { return id }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getgrnam_r(nameOrID, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    /// The user's groups: its primary group first, then every group that lists it.
    static func groups(of name: String, gid: UInt32) -> [UInt32] {
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid_t(gid), &list, &count) < 0 {
            list = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, gid_t(gid), &list, &count) >= 0 else { return [gid] }
        }
        return [gid] + list.prefix(Int(count)).map { UInt32($0) }.filter { $0 != gid }
    }
}
