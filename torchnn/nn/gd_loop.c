/* Algorithm 1.1 on the seed's L-layer network, the whole loop in plain C (no torch headers).

   NOTE: this file is the one sanctioned restatement of the seed's rules outside
   torchnn/functional: C cannot call the ACTIVATIONS / OUTPUTS records, so g, g' and the output
   rules are written again below, each beside the record it restates, and tests/nn/test_kernel.py
   pins every one of them to the records. It may differ from the torch engine by float rounding.

   Column notation, as the seed writes it: a layer's values are (n[l], m), one column per example,
   so every inner loop runs over the m examples (contiguous, vectorised). W^[l] is (n[l], n[l-1])
   row-major and b^[l] is (n[l],): the tensors the torch engine updates, updated in place here.
   x arrives as torch holds it, (m, n[0]) rows, i.e. Xᵀ; y as (m, n[L]) rows or as class indices.

   Built twice by torchnn/nn/compiled.py: with -DREAL_FLOAT (float32) and without (float64).
   No -ffast-math: NaN and infinity follow IEEE rules (-fno-math-errno only drops errno); with
   -DTORCHNN_MVEC glibc's vector libm (libmvec) is declared, so the loops over the examples call
   its SIMD exp / log1p / tanh (accurate to a few ulp). */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef REAL_FLOAT  /* float32 */
#define REAL float
#define EXP expf
#define LOG logf
#define LOG1P log1pf
#define TANH tanhf
#define FABS fabsf
#else  /* float64 */
#define REAL double
#define EXP exp
#define LOG log
#define LOG1P log1p
#define TANH tanh
#define FABS fabs
#endif

#ifdef TORCHNN_MVEC
#define SIMD __attribute__((simd("notinbranch")))
SIMD double exp(double); SIMD float expf(float);
SIMD double log1p(double); SIMD float log1pf(float);
SIMD double tanh(double); SIMD float tanhf(float);
#endif

enum { SIGMOID, TANH_, RELU, LEAKY_RELU, IDENTITY };        /* g of layers 1..L-1 */
enum { OUT_SIGMOID, OUT_SOFTMAX, OUT_IDENTITY, OUT_RELU };  /* g^[L] with its cost */

/* every example (and unit) of one layer, as one vectorised loop */
#define EACH(i, n) _Pragma("omp simd") for (int64_t i = 0; i < (n); i++)

/* NOTE: sums over the m examples (J, dW, db) run in REAL over blocks of BLOCK examples (SIMD
   width), and the blocks' sums add up in double, in float32 too: a float32 sum of 10^6 terms
   loses about 1e-4 of the step, where the torch engine keeps it to float rounding
   (tests/nn/test_gd_step_precision.py) */
typedef double ACC;
enum { BLOCK = 256 };

/* Σ_i u_i v_i over the m examples (v = NULL: Σ_i u_i) */
static ACC dot(const REAL *u, const REAL *v, int64_t m) {
  ACC total = 0;
  for (int64_t start = 0; start < m; start += BLOCK) {
    int64_t end = start + BLOCK < m ? start + BLOCK : m;
    REAL part = 0;
    if (v) {
      #pragma omp simd reduction(+:part)
      for (int64_t i = start; i < end; i++) part += u[i] * v[i];
    } else {
      #pragma omp simd reduction(+:part)
      for (int64_t i = start; i < end; i++) part += u[i];
    }
    total += part;
  }
  return total;
}

/* a = g(z) over one layer, in place (eq. 2.4): the ACTIVATIONS records' forward. */
static void activate(REAL *a, int64_t n, int g, REAL slope) {
  switch (g) {
    case SIGMOID: EACH(i, n) a[i] = 1 / (1 + EXP(-a[i])); break;        /* σ(z) */
    case TANH_: EACH(i, n) a[i] = TANH(a[i]); break;                    /* tanh(z) */
    case RELU: EACH(i, n) a[i] = a[i] < 0 ? 0 : a[i]; break;            /* max(0, z); NaN stays */
    case LEAKY_RELU: EACH(i, n) a[i] = a[i] > 0 ? a[i] : a[i] * slope; break;  /* slope >= 0 */
    default: break;                                                     /* identity: a = z */
  }
}

/* dz = da * g'(z), g' read from the output a (eq. 2.12's "* g'(Z)"): the records' grad. */
static void activation_grad(REAL *da, const REAL *a, int64_t n, int g, REAL slope) {
  switch (g) {
    case SIGMOID: EACH(i, n) da[i] *= a[i] - a[i] * a[i]; break;        /* σ' = a - a·a */
    case TANH_: EACH(i, n) da[i] *= 1 - a[i] * a[i]; break;             /* tanh' = 1 - a·a */
    case RELU: EACH(i, n) da[i] *= a[i] > 0 || a[i] != a[i] ? 1 : 0; break;  /* NaN passes */
    case LEAKY_RELU: EACH(i, n) da[i] *= a[i] > 0 ? 1 : slope; break;   /* slope at z <= 0, NaN */
    default: break;                                                     /* identity: g' = 1 */
  }
}

/* J of one iteration from Z^[L] (C, m), and dZ^[L] written over it (eq. 2.9, with the 1/m of
   eqs. 2.10-2.11 applied): the OUTPUTS records' cost and delta. Y (C, m), or labels (m,). */
static REAL output_layer(REAL *Z, const REAL *Y, const int64_t *labels, int64_t C, int64_t m,
                         int out) {
  int64_t n = C * m;
  ACC J = 0;
  if (out == OUT_SIGMOID) {  /* L = max(z, 0) - z y + log(1 + e^{-|z|}) (§1.2); dZ = A - Y */
    for (int64_t start = 0; start < n; start += BLOCK) {
      int64_t end = start + BLOCK < n ? start + BLOCK : n;
      REAL part = 0;
      #pragma omp simd reduction(+:part)
      for (int64_t i = start; i < end; i++) {
        REAL z = Z[i], e = EXP(-FABS(z));  /* σ(z) = 1/(1 + e^{-z}) = e^{z}/(1 + e^{z}) */
        part += (z > 0 ? z : 0) - z * Y[i] + LOG1P(e);
        Z[i] = ((z >= 0 ? 1 : e) / (1 + e) - Y[i]) / n;  /* A - Y */
      }
      J += part;
    }
    return (REAL)(J / n);
  }
  if (out == OUT_IDENTITY || out == OUT_RELU) {  /* J = mean((A - Y)²); dZ = 2 (A - Y) * g' */
    for (int64_t start = 0; start < n; start += BLOCK) {
      int64_t end = start + BLOCK < n ? start + BLOCK : n;
      REAL part = 0;
      #pragma omp simd reduction(+:part)
      for (int64_t i = start; i < end; i++) {
        REAL a = out == OUT_RELU && Z[i] < 0 ? 0 : Z[i], d = a - Y[i];
        part += d * d;
        Z[i] = 2 * d / n * (out == OUT_IDENTITY || a > 0 || a != a ? 1 : 0);
      }
      J += part;
    }
    return (REAL)(J / n);
  }
  /* softmax: L = Σ_c y_c (lse(z) - z_c), lse(z) = max z + log Σ_c e^{z_c - max z};
     dZ = A Σ_c Y_c - Y (A - Y for a row that sums to 1, eq. 2.9); J is the mean over m */
  for (int64_t i = 0; i < m; i++) {
    REAL top = Z[i], sum = 0, ysum = 0;
    for (int64_t c = 1; c < C; c++) top = Z[c * m + i] > top || top != top ? Z[c * m + i] : top;
    for (int64_t c = 0; c < C; c++) sum += EXP(Z[c * m + i] - top);
    REAL lse = top + LOG(sum);
    for (int64_t c = 0; c < C; c++) {
      REAL y = labels ? (labels[i] == c) : Y[c * m + i];
      if (!labels || y != 0) J += y * (lse - Z[c * m + i]);
      ysum += y;
    }
    for (int64_t c = 0; c < C; c++) {
      REAL y = labels ? (labels[i] == c) : Y[c * m + i];
      REAL a = EXP(Z[c * m + i] - top) / sum;  /* a_c = e^{z_c - max z} / Σ_j e^{z_j - max z} */
      Z[c * m + i] = (a * ysum - y) / m;
    }
  }
  return (REAL)(J / m);
}

/* Runs `iterations` of Algorithm 1.1 and writes each J into J_out. Returns the number of
   iterations completed: fewer where a J is not finite (that iteration stops before its update,
   as the torch engine's check does), -1 where memory ran out. */
int64_t gd_loop(int64_t L, const int64_t *n, REAL *const *W, REAL *const *b, const REAL *x,
                const REAL *y, const int64_t *labels, int64_t m, int64_t hidden, double slope_,
                int64_t out, double lr_, int64_t iterations, double *J_out) {
  REAL slope = (REAL)slope_, lr = (REAL)lr_;
  int64_t widest = 0, total = 0;
  for (int64_t l = 0; l <= L; l++) {
    widest = n[l] > widest ? n[l] : widest;
    total += n[l] * m;
  }
  /* A[l]: (n[l], m) for l = 0..L (A[0] = X, A[L] holds Z^[L] then dZ^[L]); two (widest, m)
     buffers take dZ^[l] and dA^[l-1] in turn */
  REAL *buf = malloc(sizeof(REAL) * (total + 2 * widest * m + (labels ? 0 : n[L] * m)));
  REAL **A = malloc(sizeof(REAL *) * (L + 1));
  if (!buf || !A) { free(buf); free(A); return -1; }
  REAL *p = buf;
  for (int64_t l = 0; l <= L; l++) {
    A[l] = p;
    p += n[l] * m;
  }
  REAL *spare[2] = {p, p + widest * m}, *Y = labels ? NULL : p + 2 * widest * m;
  for (int64_t i = 0; i < m; i++)  /* X = xᵀ (n[0], m), Y = yᵀ (n[L], m): columns are examples */
    for (int64_t k = 0; k < n[0]; k++) A[0][k * m + i] = x[i * n[0] + k];
  for (int64_t i = 0; Y && i < m; i++)
    for (int64_t c = 0; c < n[L]; c++) Y[c * m + i] = y[i * n[L] + c];

  int64_t it = 0;
  for (; it < iterations; it++) {
    for (int64_t l = 1; l <= L; l++) {  /* Z^[l] = W^[l] A^[l-1] + b^[l]  (2.3) */
      const REAL *prev = A[l - 1];
      int64_t cols = n[l - 1];
      for (int64_t j = 0; j < n[l]; j++) {
        const REAL *w = W[l - 1] + j * cols;  /* row j of W^[l] */
        REAL *z = A[l] + j * m, bj = b[l - 1][j];  /* row j of Z^[l]: (m,) */
        EACH(i, m) z[i] = bj;
        for (int64_t k = 0; k < cols; k++) {
          REAL wk = w[k];
          EACH(i, m) z[i] += wk * prev[k * m + i];
        }
      }
      if (l < L) activate(A[l], n[l] * m, (int)hidden, slope);  /* A^[l] = g(Z^[l])  (2.4) */
    }
    REAL J = output_layer(A[L], Y, labels, n[L], m, (int)out);  /* J; dZ^[L]  (2.9) */
    J_out[it] = J;
    if (!isfinite(J)) break;  /* the torch engine raises here, before any update */
    REAL *dZ = A[L];
    for (int64_t l = L; l >= 1; l--) {  /* eqs. 2.10-2.12, from the top layer down */
      REAL *Wl = W[l - 1], *bl = b[l - 1], *dA = spare[dZ == spare[0]];
      const REAL *prev = A[l - 1];
      int64_t rows = n[l], cols = n[l - 1];
      for (int64_t k = 0; l > 1 && k < cols; k++) {  /* dA^[l-1] = W^[l]ᵀ dZ^[l], before W moves */
        REAL *da = dA + k * m, w0 = Wl[k];  /* row k of dA^[l-1]: (m,) */
        EACH(i, m) da[i] = w0 * dZ[i];
        for (int64_t j = 1; j < rows; j++) {
          REAL w = Wl[j * cols + k];
          const REAL *dz = dZ + j * m;
          EACH(i, m) da[i] += w * dz[i];
        }
      }
      for (int64_t j = 0; j < rows; j++) {
        const REAL *dz = dZ + j * m;
        for (int64_t k = 0; k < cols; k++)  /* dW^[l] = dZ^[l] A^[l-1]ᵀ  (2.10, 1/m in dZ) */
          Wl[j * cols + k] -= lr * (REAL)dot(dz, prev + k * m, m);  /* W := W - α dW  (1.1) */
        bl[j] -= lr * (REAL)dot(dz, NULL, m);  /* db^[l] = sum(dZ^[l], axis=1)  (2.11) */
      }
      if (l > 1) {  /* dZ^[l-1] = dA^[l-1] * g'(Z^[l-1])  (2.12) */
        activation_grad(dA, A[l - 1], cols * m, (int)hidden, slope);
        dZ = dA;
      }
    }
  }
  free(buf);
  free(A);
  return it;
}
