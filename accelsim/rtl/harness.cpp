// Verilator harness of the conv core: the memory behind the AXI port and the cycle loop.
//
// The core's model steps cycle by cycle here, in C++; Python is called back only per grant
// (to time it with accelsim's DDR model) and per finished layer. Memory holds real bytes.
// A grant decided in cycle t (mem_req_valid) is reported after that cycle; Python answers with
// its completion cycle `end`. Its beats then move in the cycles end - nbeats .. end - 1 (read
// data on mem_rdata; write data taken from mem_wdata on mem_wready) and mem_done is high in
// cycle end - 1, so that the completion is in the core's registers at `end`.
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "Vcore.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

namespace {

template <typename T>
void put(T& sig, const uint8_t* b, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= static_cast<uint64_t>(b[i]) << (8 * i);
    sig = static_cast<T>(v);
}
template <std::size_t W>
void put(VlWide<W>& sig, const uint8_t* b, int n) {
    for (std::size_t w = 0; w < W; w++) sig[w] = 0;
    for (int i = 0; i < n; i++) sig[i / 4] |= static_cast<uint32_t>(b[i]) << (8 * (i % 4));
}
template <typename T>
void get(const T& sig, uint8_t* b, int n) {
    uint64_t v = static_cast<uint64_t>(sig);
    for (int i = 0; i < n; i++) b[i] = static_cast<uint8_t>(v >> (8 * i));
}
template <std::size_t W>
void get(const VlWide<W>& sig, uint8_t* b, int n) {
    for (int i = 0; i < n; i++) b[i] = static_cast<uint8_t>(sig[i / 4] >> (8 * (i % 4)));
}

struct Region {
    uint64_t base;
    std::vector<uint8_t> data;
};

enum Event { EV_REQUEST = 1, EV_LAYER_DONE = 2, EV_FINISHED = 3, EV_TIMEOUT = 4, EV_ERROR = 5 };

}  // namespace

struct Sim {
    VerilatedContext* ctx;
    Vcore* top;
    std::vector<Region> regions;
    int beat_bytes;
    uint64_t cycle = 0;
    bool inflight = false, has_req = false, done_reported = false;
    uint64_t g_addr = 0, g_bytes = 0, g_end = 0, g_moved = 0, g_start = 0;
    int g_stream = 0;
    bool g_write = false;
    uint64_t go_cycle = UINT64_MAX;
    char error[256] = {0};
#if VM_TRACE
    VerilatedVcdC* vcd = nullptr;
    uint64_t t = 0;
#endif
};

static uint8_t* mem_at(Sim* s, uint64_t addr, uint64_t n) {
    for (auto& r : s->regions)
        if (addr >= r.base && addr + n <= r.base + r.data.size()) return &r.data[addr - r.base];
    return nullptr;
}

static void tick(Sim* s) {
#if VM_TRACE
    if (s->vcd) s->vcd->dump(s->t++);
#endif
    s->top->clk = 1;
    s->top->eval();
#if VM_TRACE
    if (s->vcd) s->vcd->dump(s->t++);
#endif
    s->top->clk = 0;
    s->top->eval();
}

extern "C" {

Sim* sim_new(int beat_bytes) {
    Sim* s = new Sim();
    s->ctx = new VerilatedContext();
    s->top = new Vcore(s->ctx);
    s->beat_bytes = beat_bytes;
    s->top->clk = 0;
    s->top->rst = 1;
    s->top->run = 0;
    s->top->eval();
    tick(s);
    s->top->rst = 0;
    s->top->eval();
    return s;
}

void sim_trace(Sim* s, const char* path) {
#if VM_TRACE
    s->ctx->traceEverOn(true);
    s->vcd = new VerilatedVcdC();
    s->top->trace(s->vcd, 99);
    s->vcd->open(path);
#else
    (void)s;
    (void)path;
#endif
}

void sim_free(Sim* s) {
#if VM_TRACE
    if (s->vcd) s->vcd->close();
#endif
    s->top->final();
    delete s->top;
    delete s->ctx;
    delete s;
}

void sim_region(Sim* s, uint64_t base, uint64_t size) {
    s->regions.push_back(Region{base, std::vector<uint8_t>(size, 0)});
}

int sim_write(Sim* s, uint64_t addr, const uint8_t* data, uint64_t n) {
    uint8_t* p = mem_at(s, addr, n);
    if (!p) return -1;
    std::memcpy(p, data, n);
    return 0;
}

int sim_read(Sim* s, uint64_t addr, uint8_t* out, uint64_t n) {
    uint8_t* p = mem_at(s, addr, n);
    if (!p) return -1;
    std::memcpy(out, p, n);
    return 0;
}

void sim_cfg(Sim* s, uint32_t addr, uint64_t data) {
    s->top->cfg_we = 1;
    s->top->cfg_addr = addr;
    s->top->cfg_data = data;
    s->top->eval();
    tick(s);
    s->top->cfg_we = 0;
    s->top->eval();
}

void sim_go_at(Sim* s, uint64_t cycle) { s->go_cycle = cycle; }

void sim_grant(Sim* s, uint64_t end) { s->g_end = end; }

uint64_t sim_cycle(Sim* s) { return s->cycle; }

const char* sim_error(Sim* s) { return s->error; }

// the last request: stream, address, bytes, write
void sim_request(Sim* s, uint64_t* out) {
    out[0] = static_cast<uint64_t>(s->g_stream);
    out[1] = s->g_addr;
    out[2] = s->g_bytes;
    out[3] = s->g_write ? 1 : 0;
    out[4] = s->g_start;
}

void sim_stats(Sim* s, uint64_t* out) {
    Vcore* t = s->top;
    out[0] = t->st_layer;
    out[1] = t->st_start;
    out[2] = t->st_end;
    out[3] = t->st_busy;
    out[4] = t->st_stall_w;
    out[5] = t->st_stall_in;
    out[6] = t->st_stall_out;
    out[7] = t->st_last_pe_end;
    out[8] = t->st_overflows;
    out[9] = t->st_first_valid;
    out[10] = t->st_first_b;
    out[11] = t->st_first_y;
    out[12] = t->st_first_x;
    out[13] = t->st_first_c;
}

// Run until something needs Python: a grant to time, a finished layer, the end of the run.
int sim_run(Sim* s, uint64_t max_cycle) {
    Vcore* t = s->top;
    const int bb = s->beat_bytes;
    std::vector<uint8_t> buf(bb);
    while (true) {
        if (t->layer_done && !s->done_reported) {
            s->done_reported = true;
            return EV_LAYER_DONE;
        }
        if (t->finished && !s->inflight) return EV_FINISHED;
        if (s->cycle >= max_cycle) return EV_TIMEOUT;
        // inputs of this cycle
        t->run = 1;
        t->go = s->cycle == s->go_cycle;
        t->mem_rvalid = 0;
        t->mem_wready = 0;
        t->mem_done = 0;
        bool beat = false;
        uint64_t boff = 0;
        int nb = 0;
        if (s->inflight) {
            const uint64_t nbeats = (s->g_bytes + bb - 1) / bb;
            if (s->g_end < s->cycle + 1) {
                std::snprintf(s->error, sizeof s->error, "grant end %llu passed at cycle %llu",
                              (unsigned long long)s->g_end, (unsigned long long)s->cycle);
                return EV_ERROR;
            }
            if (s->cycle + nbeats >= s->g_end) {  // a beat cycle
                boff = s->g_moved;
                nb = static_cast<int>(std::min<uint64_t>(bb, s->g_bytes - boff));
                beat = true;
                if (!s->g_write) {
                    uint8_t* p = mem_at(s, s->g_addr + boff, nb);
                    if (!p) {
                        std::snprintf(s->error, sizeof s->error, "read outside memory at 0x%llx",
                                      (unsigned long long)(s->g_addr + boff));
                        return EV_ERROR;
                    }
                    std::memset(buf.data(), 0, bb);
                    std::memcpy(buf.data(), p, nb);
                    put(t->mem_rdata, buf.data(), bb);
                    t->mem_rvalid = 1;
                } else {
                    t->mem_wready = 1;
                }
            }
            if (s->cycle + 1 == s->g_end) t->mem_done = 1;
        }
        t->eval();
        if (beat) {
            if (s->g_write) {
                get(t->mem_wdata, buf.data(), bb);
                uint8_t* p = mem_at(s, s->g_addr + boff, nb);
                if (!p) {
                    std::snprintf(s->error, sizeof s->error, "write outside memory at 0x%llx",
                                  (unsigned long long)(s->g_addr + boff));
                    return EV_ERROR;
                }
                std::memcpy(p, buf.data(), nb);
            }
            s->g_moved += nb;
        }
        bool req = t->mem_req_valid;
        if (req) {
            if (s->inflight) {
                std::snprintf(s->error, sizeof s->error, "grant at cycle %llu while one is in flight",
                              (unsigned long long)s->cycle);
                return EV_ERROR;
            }
            s->g_stream = t->mem_req_stream;
            s->g_addr = t->mem_req_addr;
            s->g_bytes = t->mem_req_bytes;
            s->g_write = t->mem_req_write;
            s->g_start = s->cycle;
        }
        if (s->inflight && t->mem_done) {
            if (s->g_moved != s->g_bytes) {
                std::snprintf(s->error, sizeof s->error, "grant done with %llu of %llu bytes",
                              (unsigned long long)s->g_moved, (unsigned long long)s->g_bytes);
                return EV_ERROR;
            }
            s->inflight = false;
        }
        tick(s);
        s->cycle++;
        s->done_reported = false;
        if (req) {
            s->inflight = true;
            s->g_moved = 0;
            s->g_end = 0;
            return EV_REQUEST;
        }
    }
}

}  // extern "C"
