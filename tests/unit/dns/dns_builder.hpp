#pragma once
// Builds DNS messages byte by byte for tests, including malformed ones.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace dcp::test {

class MsgBuilder {
  public:
    MsgBuilder& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                       std::uint16_t ns, std::uint16_t ar);
    MsgBuilder& name(const std::string& dotted);  // "a.b" -> 1a1b0; "." -> 0
    MsgBuilder& pointer(std::uint16_t offset);    // compression pointer
    MsgBuilder& raw(std::initializer_list<std::uint8_t> bytes);
    MsgBuilder& raw(const std::vector<std::uint8_t>& bytes);
    MsgBuilder& u16(std::uint16_t v);
    MsgBuilder& u32(std::uint32_t v);
    MsgBuilder& question(const std::string& dotted, std::uint16_t type, std::uint16_t klass = 1);
    // Owner given as a name; rdata raw.
    MsgBuilder& record(const std::string& dotted, std::uint16_t type, std::uint32_t ttl,
                       const std::vector<std::uint8_t>& rdata, std::uint16_t klass = 1);
    // Owner given as a pointer to an earlier name.
    MsgBuilder& record_at(std::uint16_t name_offset, std::uint16_t type, std::uint32_t ttl,
                          const std::vector<std::uint8_t>& rdata, std::uint16_t klass = 1);
    MsgBuilder& opt(std::uint16_t payload, std::uint16_t flags = 0,
                    const std::vector<std::uint8_t>& options = {});

    [[nodiscard]] std::size_t size() const { return bytes_.size(); }
    [[nodiscard]] std::vector<std::uint8_t> build() const { return bytes_; }

  private:
    std::vector<std::uint8_t> bytes_;
};

// A well-formed query: id, RD, one question, optional OPT.
std::vector<std::uint8_t> make_query(const std::string& name, std::uint16_t type,
                                     std::uint16_t id = 0x1234, int opt_payload = -1);

// TXT RDATA made of the given character-strings.
std::vector<std::uint8_t> txt_rdata(const std::vector<std::string>& strings);

}  // namespace dcp::test
