/* The 4-bit product of CPU ArtiMuse on Intel AMX: y = x W^T for bf16 x and W in torch's tinygemm int4
 * layout (the AVX512 packing of aten::_convert_weight_to_int4pack_for_cpu, groups of scales and zeros).
 *
 * Why: torch's own int4 kernel multiplies in float32 FMAs, so from two rows on it is compute-bound (8 rows
 * cost 3.8x one row for an 18944 x 3584 matrix) and decoding 8 critiques together gained only 1.2-1.4x over
 * bfloat16. Here each group of 128 weights is unpacked to bf16 (128 + q, exact: see unpack), multiplied on the
 * AMX tiles (exact bf16 products, float32 sums), and the group's scale and zero are applied after:
 *
 *     y[m, n] = sum_g  scale[g, n] * sum_{k in g} x[m, k] (q[k, n] - 8)  +  zero[g, n] * sum_{k in g} x[m, k]
 *
 * which is tinygemm's w = (q - 8) * scale + zero to float32 rounding (the tiles' extra 136 times the group's
 * sum of x is taken back with the zero), the sums then rounded to bf16 as tinygemm's are. The weight is read
 * in its stored layout (no repacking at load, the cache file is unchanged); each block of 64 output columns is
 * unpacked once per call and shared by every block of 16 rows, so long prompts also run on the tiles.
 *
 * Built with no special compiler flags (the AMX functions carry target attributes) and only on Linux x86-64
 * with GCC or Clang; elsewhere the module is a stub whose supported() says False. No torch headers: Python
 * passes the tensors' addresses (artimuse_desktop/scoring/artimuse/int4_kernels.py checks shapes and dtypes).
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AMX_BUILD 1
#include <cpuid.h>
#include <dlfcn.h>
#include <immintrin.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
#define BLOCK_N 64        /* columns per packed block: tinygemm's AVX512 layout */
#define TILE_M 16         /* rows per AMX tile */
#define TILE_K 32         /* bf16 values per tile row */
#define MAX_THREADS 64
/* bytes of packed weights asked for ahead of the unpacking: 4 groups of 128. The hardware prefetcher stops at
 * each 4 KB page (one group of one column block), so each group began with cold misses while the tiles
 * worked: an 8-row product of an 18944 x 3584 matrix from memory took 2.7-2.9 ms, 2.4-2.5 with this. */
#define PREFETCH_AHEAD 16384

#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi")))

typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

typedef struct {
    const uint16_t *x; /* bf16 [m, k] */
    const uint8_t *w;  /* packed [n / 64][k][32] */
    const uint16_t *sz; /* bf16 [groups][n][2]: scale, zero */
    const float *xsum; /* [m][groups]: sum of x over each group */
    float *y;          /* [m, n] */
    int64_t m, k, n, group;
    int64_t block_begin, block_end;
    int failed;
} job;

static int cpu_state = -1; /* -1 unknown, 0 no, 1 yes */

/* The byte orders that turn two rows of k (64 bytes of nibbles) into VNNI tile rows: for 16 columns,
 * (q(k, n), 0x43, q(k + 1, n), 0x43) per column, i.e. bf16 words 0x43qq = 128 + q. Built once. */
static uint8_t vnni_order[2][64];

static void build_orders(void) {
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 16; i++) {
            vnni_order[t][4 * i + 0] = (uint8_t)(16 * t + i);      /* row k: its 32 nibbles come first */
            vnni_order[t][4 * i + 1] = 64;                          /* the second operand: 0x43 */
            vnni_order[t][4 * i + 2] = (uint8_t)(32 + 16 * t + i); /* row k + 1 */
            vnni_order[t][4 * i + 3] = 64;
        }
}

/* torch's own OpenMP team, where torch has loaded GNU OpenMP (its Linux wheels do): after each torch op its
 * threads spin a while waiting for the next, so threads of our own would share the cores with them (an
 * 8-row product took twice as long after a torch op). Found by name, not linked: one team, torch's. */
typedef void (*gomp_parallel_fn)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*omp_query_fn)(void);
static gomp_parallel_fn gomp_parallel;
static omp_query_fn omp_thread_num, omp_team_size;

static void find_openmp(void) {
    gomp_parallel = (gomp_parallel_fn)dlsym(RTLD_DEFAULT, "GOMP_parallel");
    omp_thread_num = (omp_query_fn)dlsym(RTLD_DEFAULT, "omp_get_thread_num");
    omp_team_size = (omp_query_fn)dlsym(RTLD_DEFAULT, "omp_get_num_threads");
    if (!omp_thread_num || !omp_team_size)
        gomp_parallel = NULL;
}

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    int avx512 = (b & (1u << 16)) && (b & (1u << 30)) && (b & (1u << 31)) && (b & (1u << 17)) /* F BW VL DQ */
                 && (c & (1u << 1)); /* VBMI */
    int amx = (d & (1u << 22)) && (d & (1u << 24)); /* AMX-BF16, AMX-TILE */
    if (!avx512 || !amx)
        return 0;
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0xE6) != 0xE6) /* SSE, AVX and the three AVX-512 states */
        return 0;
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0)
        return 0; /* the kernel refuses tile data to this process (or predates AMX) */
    build_orders();
    find_openmp();
    return 1;
}

static int supported(void) {
    if (cpu_state < 0)
        cpu_state = detect();
    return cpu_state;
}

AMX_TARGET static void configure(int rows) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 4; t++) { /* 0-3: sums for the 4 column tiles of a block */
        cfg.rows[t] = (uint8_t)rows;
        cfg.colsb[t] = 64;
    }
    cfg.rows[4] = (uint8_t)rows; /* 4: x */
    cfg.colsb[4] = 64;
    for (int t = 5; t < 7; t++) { /* 5, 6: unpacked weights, 16 pairs of k by 16 columns */
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
}

/* Unpacks k rows [k0, k0 + len) of one column block into 4 VNNI tiles per 32 rows of k:
 * out[step][column tile][pair][16 columns x 2] as bf16 of 128 + q (exact; the 136 is taken back with the
 * zero, see scales_zeros). In the packed block, byte j of a row holds column j in its low nibble and
 * column j + 32 in its high one, and row k + 1 follows row k: one 64-byte load holds a pair of rows. */
AMX_TARGET static void unpack(const uint8_t *block, int64_t k0, int64_t len, uint16_t *out) {
    const __m512i first = _mm512_loadu_si512(vnni_order[0]);
    const __m512i second = _mm512_loadu_si512(vnni_order[1]);
    const __m512i exponent = _mm512_set1_epi8(0x43);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    for (int64_t step = 0; step < len / TILE_K; step++) {
        uint16_t *tiles = out + step * 4 * 16 * 32;
        const uint8_t *rows = block + (k0 + step * TILE_K) * 32;
        for (int p = 0; p < 16; p++) {
            _mm_prefetch((const char *)(rows + p * 64 + PREFETCH_AHEAD), _MM_HINT_T2);
            __m512i both = _mm512_loadu_si512(rows + p * 64);
            __m512i low = _mm512_and_si512(both, nibble);                       /* columns 0-31 */
            __m512i high = _mm512_and_si512(_mm512_srli_epi16(both, 4), nibble); /* columns 32-63 */
            _mm512_storeu_si512(tiles + (0 * 16 + p) * 32, _mm512_permutex2var_epi8(low, first, exponent));
            _mm512_storeu_si512(tiles + (1 * 16 + p) * 32, _mm512_permutex2var_epi8(low, second, exponent));
            _mm512_storeu_si512(tiles + (2 * 16 + p) * 32, _mm512_permutex2var_epi8(high, first, exponent));
            _mm512_storeu_si512(tiles + (3 * 16 + p) * 32, _mm512_permutex2var_epi8(high, second, exponent));
        }
    }
}

/* The scales of 16 columns of one group (bf16 pairs of scale and zero) as float32, and the factor of the
 * group's sum of x: zero - 136 scale, for the tiles hold 128 + q where tinygemm means q - 8. */
AMX_TARGET static void scales_zeros(const uint16_t *pairs, __m512 *scale, __m512 *shift) {
    const __m512i split = _mm512_set_epi16(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1,
                                           30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512i both = _mm512_permutexvar_epi16(split, _mm512_loadu_si512(pairs));
    *scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(both)), 16));
    __m512 zero = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(both, 1)), 16));
    *shift = _mm512_fnmadd_ps(_mm512_set1_ps(136.0f), *scale, zero);
}

/* float32 rounded to the nearest bfloat16 (ties to even), as float32: the sums tinygemm returns, so that a
 * 4-bit model computes the same numbers with either kernel (finite values only: these are sums). */
AMX_TARGET static __m512 round_bf16(__m512 v) {
    __m512i bits = _mm512_castps_si512(v);
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    bits = _mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
    return _mm512_castsi512_ps(_mm512_and_si512(bits, _mm512_set1_epi32((int)0xFFFF0000u)));
}

AMX_TARGET static void *run_job(void *arg) {
    job *j = (job *)arg;
    const int64_t m = j->m, k = j->k, n = j->n, group = j->group, groups = k / group;
    const int64_t chunk = group; /* k unpacked at a time: 16 KB of tiles for a group of 128, kept in L1 */
    uint16_t *weights = aligned_alloc(64, (size_t)(chunk / TILE_K) * 4 * 16 * 32 * sizeof(uint16_t));
    float *acc = aligned_alloc(64, (size_t)((m + TILE_M - 1) / TILE_M) * TILE_M * BLOCK_N * sizeof(float));
    float *sums = aligned_alloc(64, 4 * TILE_M * 16 * sizeof(float));
    if (!weights || !acc || !sums) {
        free(weights), free(acc), free(sums);
        j->failed = 1;
        return NULL;
    }
    int configured = -1;
    for (int64_t b = j->block_begin; b < j->block_end; b++) {
        const uint8_t *block = j->w + b * k * 32;
        memset(acc, 0, (size_t)m * BLOCK_N * sizeof(float));
        for (int64_t k0 = 0; k0 < k; k0 += chunk) {
            const int64_t len = chunk < k - k0 ? chunk : k - k0;
            unpack(block, k0, len, weights);
            for (int64_t m0 = 0; m0 < m; m0 += TILE_M) {
                const int rows = (int)(m - m0 < TILE_M ? m - m0 : TILE_M);
                if (rows != configured) {
                    configure(rows);
                    configured = rows;
                }
                for (int64_t g = k0 / group; g < (k0 + len) / group; g++) {
                    _tile_zero(0);
                    _tile_zero(1);
                    _tile_zero(2);
                    _tile_zero(3);
                    for (int64_t s = (g * group - k0) / TILE_K; s < ((g + 1) * group - k0) / TILE_K; s++) {
                        const uint16_t *tiles = weights + s * 4 * 16 * 32;
                        _tile_loadd(4, j->x + m0 * k + k0 + s * TILE_K, k * 2);
                        _tile_loadd(5, tiles, 64);
                        _tile_dpbf16ps(0, 4, 5);
                        _tile_loadd(6, tiles + 16 * 32, 64);
                        _tile_dpbf16ps(1, 4, 6);
                        _tile_loadd(5, tiles + 2 * 16 * 32, 64);
                        _tile_dpbf16ps(2, 4, 5);
                        _tile_loadd(6, tiles + 3 * 16 * 32, 64);
                        _tile_dpbf16ps(3, 4, 6);
                    }
                    _tile_stored(0, sums, 64);
                    _tile_stored(1, sums + TILE_M * 16, 64);
                    _tile_stored(2, sums + 2 * TILE_M * 16, 64);
                    _tile_stored(3, sums + 3 * TILE_M * 16, 64);
                    for (int t = 0; t < 4; t++) {
                        __m512 scale, shift;
                        scales_zeros(j->sz + (g * n + b * BLOCK_N + t * 16) * 2, &scale, &shift);
                        for (int r = 0; r < rows; r++) {
                            float *out = acc + (m0 + r) * BLOCK_N + t * 16;
                            __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(sums + (t * TILE_M + r) * 16), scale,
                                                       _mm512_loadu_ps(out));
                            v = _mm512_fmadd_ps(_mm512_set1_ps(j->xsum[(m0 + r) * groups + g]), shift, v);
                            _mm512_storeu_ps(out, v);
                        }
                    }
                }
            }
        }
        for (int64_t r = 0; r < m; r++)
            for (int t = 0; t < 4; t++)
                _mm512_storeu_ps(j->y + r * n + b * BLOCK_N + t * 16, round_bf16(_mm512_loadu_ps(acc + r * BLOCK_N + t * 16)));
    }
    _tile_release();
    free(weights), free(acc), free(sums);
    return NULL;
}

/* Each row's sum of x over each group, 16 values at a time (the zero's factor; the order of the additions
 * is the vector's, not the row's). */
AMX_TARGET static void group_sums(const uint16_t *x, int64_t m, int64_t k, int64_t group, float *out) {
    for (int64_t r = 0; r < m; r++)
        for (int64_t g = 0; g < k / group; g++) {
            __m512 s = _mm512_setzero_ps();
            for (int64_t i = 0; i < group; i += 16) {
                __m256i bits = _mm256_loadu_si256((const __m256i *)(x + r * k + g * group + i));
                s = _mm512_add_ps(s, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16)));
            }
            out[r * (k / group) + g] = _mm512_reduce_add_ps(s);
        }
}

typedef struct {
    job *jobs;
    int count;
} team_work;

static void run_team_share(void *arg) {
    team_work *work = (team_work *)arg;
    for (int t = omp_thread_num(); t < work->count; t += omp_team_size())
        run_job(&work->jobs[t]);
}

/* 0 on success, -1 out of memory */
static int matmul(const uint16_t *x, int64_t m, int64_t k, const uint8_t *w, int64_t n, const uint16_t *sz,
                  int64_t group, float *y, int threads) {
    const int64_t blocks = n / BLOCK_N;
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads > blocks)
        threads = (int)blocks;
    float *xsum = malloc((size_t)m * (k / group) * sizeof(float));
    if (!xsum)
        return -1;
    group_sums(x, m, k, group, xsum);
    job jobs[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){x, w, sz, xsum, y, m, k, n, group, blocks * t / threads, blocks * (t + 1) / threads, 0};
    }
    if (gomp_parallel && threads > 1) {
        team_work work = {jobs, threads};
        gomp_parallel(run_team_share, &work, (unsigned)threads, 0);
        free(xsum);
        for (int t = 0; t < threads; t++)
            if (jobs[t].failed)
                return -1;
        return 0;
    }
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, run_job, &jobs[t]) == 0;
    run_job(&jobs[0]);
    int status = jobs[0].failed ? -1 : 0;
    for (int t = 1; t < threads; t++) {
        if (started[t]) {
            pthread_join(ids[t], NULL);
        } else {
            run_job(&jobs[t]); /* could not start a thread: this one does its share */
        }
        if (jobs[t].failed)
            status = -1;
    }
    free(xsum);
    return status;
}
#endif

static PyObject *py_supported(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
#ifdef HAVE_AMX_BUILD
    return PyBool_FromLong(supported());
#else
    Py_RETURN_FALSE;
#endif
}

static PyObject *py_matmul(PyObject *self, PyObject *args) {
    (void)self;
    unsigned long long x, w, sz, y;
    long long m, k, n, group;
    int threads;
    if (!PyArg_ParseTuple(args, "KLLKLKLKi", &x, &m, &k, &w, &n, &sz, &group, &y, &threads))
        return NULL;
#ifdef HAVE_AMX_BUILD
    if (!supported()) {
        PyErr_SetString(PyExc_RuntimeError, "this CPU (or its kernel) gives no AMX-BF16 tiles to this process");
        return NULL;
    }
    if (m < 0 || k <= 0 || n <= 0 || group <= 0 || group % TILE_K || k % group || n % BLOCK_N) {
        PyErr_SetString(PyExc_ValueError, "shape not taken: k a multiple of the group, the group of 32, n of 64");
        return NULL;
    }
    if (m == 0)
        Py_RETURN_NONE;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = matmul((const uint16_t *)(uintptr_t)x, m, k, (const uint8_t *)(uintptr_t)w, n,
                    (const uint16_t *)(uintptr_t)sz, group, (float *)(uintptr_t)y, threads);
    Py_END_ALLOW_THREADS
    if (status != 0) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_RETURN_NONE;
#else
    (void)x, (void)w, (void)sz, (void)y, (void)m, (void)k, (void)n, (void)group, (void)threads;
    PyErr_SetString(PyExc_RuntimeError, "built without the AMX kernel (it needs Linux on x86-64)");
    return NULL;
#endif
}

static PyMethodDef methods[] = {
    {"supported", py_supported, METH_NOARGS, "Whether this CPU and kernel give AMX-BF16 tiles to this process."},
    {"matmul", py_matmul, METH_VARARGS,
     "matmul(x, m, k, packed, n, scales_and_zeros, group, y, threads): y = x W^T, by address (no checks)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_int4_amx", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__int4_amx(void) { return PyModule_Create(&module); }
