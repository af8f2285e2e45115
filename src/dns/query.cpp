#include "dns/query.hpp"

namespace dcp::dns {

Result<std::size_t> write_query(std::uint16_t id, const Name& name, RecordType type,
                                MutableBytes out) noexcept {
    ByteWriter w(out);
    const bool ok = w.u16(id) && w.u16(flags::kRd) && w.u16(1) && w.u16(0) && w.u16(0) &&
                    w.u16(0) && w.bytes(name.wire()) && w.u16(static_cast<std::uint16_t>(type)) &&
                    w.u16(static_cast<std::uint16_t>(RecordClass::IN));
    if (!ok) return Unexpected(Error::NoSpace);
    return w.position();
}

}  // namespace dcp::dns
