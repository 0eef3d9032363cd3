/*
 * Compiled driver of the 835 reader (edi/x835/reader.py): the accelerator of its pure-Python path.
 *
 * What it is: a C translation of the reader's per-segment loop for the segments that make up
 * most of a remittance (the regular shape of CLP, CAS, NM1, DTM, REF, AMT, QTY, SVC, LQ in loops
 * 2100/2110). scan() finds the segments of the tokenizer's regular text (the tokenizer's fast
 * path, same numbers and lines); drive() reads each segment straight from that text (no element
 * list), builds the same model records the handlers build (edi/x835/model.py), keeps the same
 * running CAS totals (cas_total), and closes claims that balance (the bookkeeping of
 * edi.x835.segments.end_claim).
 *
 * What it is not: a second reader. The rules live in the Python handlers (edi/x835/segments.py,
 * edi/x835/envelope.py), which stay the reference. Whenever a segment is not of the regular shape
 * (a bad or missing amount, too many elements, an SVC06, an unexpected loop, anything that would
 * make a finding) it splits the segment exactly as Python does (str.split) and calls dispatch; a
 * claim out of balance goes to end_claim, which makes the finding. Envelopes, header loops, PLB
 * and every finding are Python. tests/edi/x835/test_accel.py holds both drivers equal on the
 * corpus, mutated files, hand-made edge cases and generated files.
 *
 * The boundary with Python (nothing else is read or written):
 *
 *   setup(classes, Decimal, InvalidOperation, big, zero) -> None
 *       once, at import: classes maps "Adjustment", "Reference", "DateRef", "AmountRef", "Name",
 *       "Loop2110", "Loop2100" to the model's slotted classes, whose slots (k_fields below, in
 *       order) are read and filled by offset; big/zero are the amount rule's constants. A model
 *       of another shape raises TypeError (the reader then runs pure Python).
 *
 *   scan(text, term, elem, line, nl_term) -> None | (n, line_after, last_sid, last_line, bounds, lines)
 *       the tokenizer's regular runs (see the comment at scan()).
 *
 *   drive(state, batch, first, lines, i, elem, dispatch, end_claim) -> (next i, Remittance or None)
 *       state: the reader's edi.x835.state.ReaderState. Read: rem (is a set open), loop, claim,
 *       svc, comp, lx, keep_claims, on_claim. Written: claim, svc, loop (as the handlers would).
 *       Of the open Remittance: claims (appended to), claim_count, line_count, total_charge,
 *       total_paid (added to). Of the model records: their slots.
 *       dispatch(state, elements, number, line) -> Remittance | None: called for every segment not
 *       built here; a Remittance it returns ends this call (returned, with the index after it).
 *       end_claim(state) -> None: called for an open claim that does not balance.
 *       on_claim(rem, claim), when the state has one, is called for each claim closed here.
 *       Runs batch[i:] until a set is finished or the batch ends (None).
 *
 * Built by setup.py as an optional extension: when no C compiler is present the pure-Python
 * driver runs (DRIPLINE_PURE_PYTHON=1 forces it).
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <structmember.h>
#include <string.h>

#define MAXEL 48 /* element offsets kept per segment; longer segments go to Python */

/* ------------------------------------------------------------------ model classes */
enum { K_ADJ, K_REF, K_DTM, K_AMT, K_NAME, K_2110, K_2100, K_COUNT };
static const char *k_names[K_COUNT] = {"Adjustment", "Reference", "DateRef", "AmountRef", "Name",
                                       "Loop2110", "Loop2100"};
static const char *k_fields[K_COUNT][32] = {
    {"group", "reason", "amount", "quantity", NULL},
    {"qualifier", "value", NULL},
    {"qualifier", "date", NULL},
    {"qualifier", "amount", NULL},
    {"entity", "entity_type", "last", "first", "middle", "suffix", "id_qualifier", "id", NULL},
    {"qualifier", "code", "modifiers", "charge", "paid", "revenue_code", "units", "description",
     "original_qualifier", "original_code", "original_modifiers", "original_units", "dates",
     "adjustments", "refs", "amounts", "quantities", "remarks", "segment_number", "line", "cas_total", NULL},
    {"patient_control_number", "status", "charge", "paid", "patient_responsibility",
     "filing_indicator", "payer_claim_number", "facility_type", "frequency", "patient_status",
     "drg_code", "drg_weight", "discharge_fraction", "condition_indicator", "adjustments", "names",
     "inpatient", "outpatient", "refs", "dates", "contacts", "amounts", "quantities", "lines",
     "header_number", "segment_number", "line", "cas_total", NULL},
};
static int k_nfields[K_COUNT];
static PyTypeObject *k_type[K_COUNT];
static Py_ssize_t k_off[K_COUNT][32];

/* field indexes used below */
enum { L_QUAL, L_CODE, L_MODS, L_CHARGE, L_PAID, L_REV, L_UNITS, L_DESC, L_OQUAL, L_OCODE, L_OMODS,
       L_OUNITS, L_DATES, L_ADJS, L_REFS, L_AMTS, L_QTYS, L_REMARKS, L_SEGNUM, L_LINE, L_ADJ };
enum { C_PCN, C_STATUS, C_CHARGE, C_PAID, C_PR, C_FILING, C_PAYERNUM, C_FACILITY, C_FREQ, C_PSTATUS,
       C_DRG, C_DRGW, C_DISCH, C_COND, C_ADJS, C_NAMES, C_INPAT, C_OUTPAT, C_REFS, C_DATES, C_CONTACTS,
       C_AMTS, C_QTYS, C_LINES, C_HEADER, C_SEGNUM, C_LINE, C_ADJ };

static PyObject *Decimal, *InvalidOperation, *BIG, *NEG_BIG, *ZERO, *EMPTY, *ONE;
static PyObject *s_loop, *s_claim, *s_svc, *s_comp, *s_rem, *s_lx, *s_on_claim, *s_2110, *s_2100;
static PyObject *s_claim_count, *s_line_count, *s_total_charge, *s_total_paid, *s_keep_claims, *s_claims;
static int ready = 0;

#define SLOT(o, k, f) (*(PyObject **)((char *)(o) + k_off[k][f]))

/* The model holds no reference cycles (records own lists of records, nothing points back), so
 * reference counting frees every part of it. What this module builds is therefore untracked by
 * the cyclic collector, which would otherwise re-walk every record of a remittance in the first
 * young-generation collection after it is handed out (CPython does the same for tuples and dicts
 * that hold only atomic values). A cycle a caller builds through these objects would not be
 * collected; nothing in dripline builds one. */
#ifdef KEEP_TRACKED
#define UNTRACK(o) ((void)0)
#else
#define UNTRACK(o) PyObject_GC_UnTrack(o)
#endif

/* A new instance of model class k with every slot NULL (the caller fills each one). */
static PyObject *new_record(int k) {
    PyObject *o = k_type[k]->tp_alloc(k_type[k], 0);
    if (o != NULL) UNTRACK(o);
    return o;
}

/* ------------------------------------------------------------------ segment view */
typedef struct {
    PyObject *str;
    int kind;
    const void *data;
    Py_ssize_t len;
    Py_ssize_t n;              /* number of elements, the id included (like len(els)) */
    uint32_t sid;              /* seg_id() */
    Py_ssize_t st[MAXEL], en[MAXEL];
} Seg;

#define CH(s, i) PyUnicode_READ((s)->kind, (s)->data, (i))

static uint32_t seg_id(const Seg *s);

/* Split str[a:b] (one segment) on the element separator; 0 when it has more than MAXEL elements. */
static int seg_parse(Seg *s, PyObject *str, Py_ssize_t a, Py_ssize_t b, Py_UCS4 elem) {
    s->str = str;
    s->kind = PyUnicode_KIND(str);
    s->data = PyUnicode_DATA(str);
    s->len = b;
    Py_ssize_t n = 0, start = a;
    if (s->kind == PyUnicode_1BYTE_KIND && elem < 256) {
        const unsigned char *d = (const unsigned char *)s->data;
        const unsigned char e = (unsigned char)elem;
        for (Py_ssize_t i = a; i < b; i++) {
            if (d[i] == e) {
                if (n >= MAXEL - 1) return 0;
                s->st[n] = start;
                s->en[n] = i;
                n++;
                start = i + 1;
            }
        }
    } else {
        for (Py_ssize_t i = a; i < b; i++) {
            if (CH(s, i) == elem) {
                if (n >= MAXEL - 1) return 0;
                s->st[n] = start;
                s->en[n] = i;
                n++;
                start = i + 1;
            }
        }
    }
    s->st[n] = start;
    s->en[n] = b;
    s->n = n + 1;
    s->sid = seg_id(s);
    return 1;
}

static inline Py_ssize_t el_len(const Seg *s, Py_ssize_t i) {
    return i < s->n ? s->en[i] - s->st[i] : 0;
}

/* The segment id packed in an integer (0 when it is not 2 or 3 ASCII letters/digits). */
#define SID3(a, b, c) (((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | (uint32_t)(c))
#define SID2(a, b) (((uint32_t)(a) << 8) | (uint32_t)(b))
static uint32_t seg_id(const Seg *s) {
    Py_ssize_t k = el_len(s, 0);
    if (k < 2 || k > 3) return 0;
    uint32_t v = 0;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_UCS4 c = CH(s, s->st[0] + j);
        if (c > 127) return 0;
        v = (v << 8) | c;
    }
    return v;
}
#define id_is(s, id) ((s)->sid == (sizeof(id) == 4 ? SID3((id)[0], (id)[1], (id)[2]) : SID2((id)[0], (id)[1])))

/* Small caches: qualifiers, reason codes, dates and amounts repeat across claims and lines.
 * Strings and Decimals are immutable, so a cached object can be shared. Keys: up to 8 ASCII
 * characters packed in 64 bits, plus the length. */
#define CACHE_SIZE 1024
typedef struct { uint64_t key; Py_ssize_t len; PyObject *obj; } CacheEntry;
static CacheEntry str_cache[CACHE_SIZE];
#define SMALL_AMOUNTS 512
static CacheEntry small_amounts[SMALL_AMOUNTS];
#define RECENT 8
static CacheEntry recent[RECENT];
static int recent_next = 0;

/* 1 and the key when s[a:b] is 1..8 ASCII characters of a 1-byte string. */
static inline int cache_key(const Seg *s, Py_ssize_t a, Py_ssize_t b, uint64_t *key, size_t *slot) {
    Py_ssize_t k = b - a;
    if (k <= 0 || k > 8 || s->kind != PyUnicode_1BYTE_KIND) return 0;
    const unsigned char *d = (const unsigned char *)s->data + a;
    uint64_t v = 0;
    unsigned char hi = 0;
    for (Py_ssize_t j = 0; j < k; j++) {
        hi |= d[j];
        v = (v << 8) | d[j];
    }
    if (hi & 0x80) return 0;
    *key = v;
    *slot = (size_t)(((v ^ (uint64_t)k) * 0x9E3779B97F4A7C15ULL) >> 51) & (CACHE_SIZE - 1);
    return 1;
}

static inline PyObject *cache_get(CacheEntry *c, uint64_t key, Py_ssize_t len, size_t slot) {
    CacheEntry *e = &c[slot];
    if (e->obj != NULL && e->key == key && e->len == len) {
        Py_INCREF(e->obj);
        return e->obj;
    }
    return NULL;
}

/* First come, kept: an occupied slot is never replaced (replacing would touch the evicted
 * object's memory, long out of the CPU cache, which cost more than the cache saves). */
static inline void cache_put(CacheEntry *c, uint64_t key, Py_ssize_t len, size_t slot, PyObject *o) {
    CacheEntry *e = &c[slot];
    if (e->obj != NULL) return;
    Py_INCREF(o);
    e->obj = o;
    e->key = key;
    e->len = len;
}

static PyObject *substr(const Seg *s, Py_ssize_t a, Py_ssize_t b) {
    if (b <= a) {
        Py_INCREF(EMPTY);
        return EMPTY;
    }
    uint64_t key = 0;
    size_t slot = 0;
    if (cache_key(s, a, b, &key, &slot)) {
        PyObject *o = cache_get(str_cache, key, b - a, slot);
        if (o != NULL) return o;
        o = PyUnicode_FromStringAndSize((const char *)s->data + a, b - a);
        if (o != NULL) cache_put(str_cache, key, b - a, slot, o);
        return o;
    }
    return PyUnicode_Substring(s->str, a, b);
}

/* Element i as a new str ("" when absent). */
static PyObject *el(const Seg *s, Py_ssize_t i) {
    if (i >= s->n) {
        Py_INCREF(EMPTY);
        return EMPTY;
    }
    return substr(s, s->st[i], s->en[i]);
}

/* Decimal of s[a:b] with the reader's rule (edi.x835.segments.amount_of): a number strictly between -1e15
 * and 1e15. Returns a new reference, or NULL with no exception set when the text is not such a
 * number (the caller then leaves the segment to Python, which makes the finding), or NULL with an
 * exception set on a real error. */
/* Decimal(txt): the type's constructor called directly with an argument tuple kept for reuse
 * (calling the type would build and free a tuple per amount). */
static PyObject *dec_args = NULL;

static PyObject *new_decimal(PyObject *txt) {
    PyTypeObject *tp = (PyTypeObject *)Decimal;
    if (!PyType_Check(Decimal) || tp->tp_new == NULL) return PyObject_CallOneArg(Decimal, txt);
    if (dec_args == NULL || Py_REFCNT(dec_args) != 1) {
        Py_XDECREF(dec_args);
        dec_args = PyTuple_New(1);
        if (dec_args == NULL) return NULL;
        Py_INCREF(Py_None);
        PyTuple_SET_ITEM(dec_args, 0, Py_None);
    }
    PyObject *old = PyTuple_GET_ITEM(dec_args, 0);
    Py_INCREF(txt);
    PyTuple_SET_ITEM(dec_args, 0, txt);
    Py_DECREF(old);
    PyObject *d = tp->tp_new(tp, dec_args, NULL);
    if (d != NULL && !PyObject_TypeCheck(d, tp)) {  /* as type.__call__ would: never here */
        Py_DECREF(d);
        return PyObject_CallOneArg(Decimal, txt);
    }
    return d;
}

static PyObject *amount(const Seg *s, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t k = b - a;
    if (k <= 0) return NULL;
    /* plain form: -?digits(.digits)? with at most 15 integer digits: always valid and in range;
     * up to 8 characters it is also the key of the Decimal cache */
    int plain = 1, digits = 0, intdigits = 0, dot = 0;
    uint64_t key = 0;
    if (s->kind == PyUnicode_1BYTE_KIND) {
        const unsigned char *d = (const unsigned char *)s->data;
        Py_ssize_t i = a;
        if (d[i] == '-') i++;
        for (; i < b; i++) {
            unsigned char c = d[i];
            if (c >= '0' && c <= '9') {
                digits++;
                intdigits += !dot;
            } else if (c == '.' && !dot) {
                dot = 1;
            } else {
                plain = 0;
                break;
            }
        }
        if (plain && k <= 8)
            for (i = a; i < b; i++) key = (key << 8) | d[i];
    } else {
        plain = 0;
    }
#ifdef NO_DEC_CACHE
    int cacheable = 0;
#else
    int cacheable = plain && digits > 0 && intdigits <= 15 && k <= 8;
#endif
    size_t small_slot = 0;
    if (cacheable && k <= 4) {
        /* short amounts (units, zeros, small fees) recur across the whole file: first come, kept */
        small_slot = (size_t)(((key ^ (uint64_t)k) * 0x9E3779B97F4A7C15ULL) >> 55) & (SMALL_AMOUNTS - 1);
        CacheEntry *e = &small_amounts[small_slot];
        if (e->obj != NULL && e->key == key && e->len == k) {
            Py_INCREF(e->obj);
            return e->obj;
        }
    }
    if (cacheable) {
        /* a payer often repeats an amount a few segments later (AMT*B6 = SVC03, CAS = CLP05) */
        for (int r = 0; r < RECENT; r++) {
            if (recent[r].obj != NULL && recent[r].key == key && recent[r].len == k) {
                Py_INCREF(recent[r].obj);
                return recent[r].obj;
            }
        }
    }
    PyObject *txt = substr(s, a, b);
    if (txt == NULL) return NULL;
    PyObject *d = new_decimal(txt);
    Py_DECREF(txt);
    if (cacheable && d != NULL && k <= 4) cache_put(small_amounts, key, k, small_slot, d);
    if (cacheable && d != NULL) {
        CacheEntry *e = &recent[recent_next];
        recent_next = (recent_next + 1) % RECENT;
        Py_INCREF(d);
        Py_XSETREF(e->obj, d);
        e->key = key;
        e->len = k;
    }
    if (d == NULL) {
        if (PyErr_ExceptionMatches(InvalidOperation) || PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
        }
        return NULL;
    }
    if (plain && digits > 0 && intdigits <= 15) return d;
    int lo = PyObject_RichCompareBool(NEG_BIG, d, Py_LT);
    int hi = lo == 1 ? PyObject_RichCompareBool(d, BIG, Py_LT) : lo;
    if (lo == 1 && hi == 1) return d;
    Py_DECREF(d);
    if (lo < 0 || hi < 0) {
        if (PyErr_ExceptionMatches(InvalidOperation) || PyErr_ExceptionMatches(PyExc_ValueError) ||
            PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
        }
    }
    return NULL;
}

/* _amt(x) if x else None for element i: a new reference (Py_None when absent or not a number). */
static PyObject *amount_or_none(const Seg *s, Py_ssize_t i) {
    if (el_len(s, i) == 0) Py_RETURN_NONE;
    PyObject *d = amount(s, s->st[i], s->en[i]);
    if (d == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    return d;
}

static int append_new(PyObject *owner, int k, int field, PyObject *rec) {
    /* owner.<list field>.append(rec); steals rec */
    if (rec == NULL) return -1;
    PyObject *lst = SLOT(owner, k, field);
    if (lst == NULL || !PyList_Check(lst)) {
        Py_DECREF(rec);
        PyErr_SetString(PyExc_RuntimeError, "835 accelerator: model list missing");
        return -1;
    }
    int r = PyList_Append(lst, rec);
    Py_DECREF(rec);
    return r;
}

static PyObject *pair_record(int k, const Seg *s) {
    /* DateRef / Reference: (els[1] if n > 1 else "", els[2] if n > 2 else "") */
    PyObject *o = new_record(k);
    if (o == NULL) return NULL;
    PyObject *a = el(s, 1), *b = el(s, 2);
    if (a == NULL || b == NULL) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_DECREF(o);
        return NULL;
    }
    SLOT(o, k, 0) = a;
    SLOT(o, k, 1) = b;
    return o;
}

/* ------------------------------------------------------------------ hot segments
 * Each returns 1 when it handled the segment, 0 to leave it to Python (nothing changed), -1 on error.
 */

/* CAS in loop 2100/2110, the handler's loop over triplets when every amount reads. */
static int do_cas(const Seg *s, PyObject *owner, int k) {
    Py_ssize_t n = s->n;
    if (n > 20) return 0;
    PyObject *amts[7] = {NULL};
    int cnt = 0, rc = 0;
    for (Py_ssize_t j = 2; j < n; j += 3, cnt++) {
        Py_ssize_t lr = el_len(s, j), la = el_len(s, j + 1), lq = el_len(s, j + 2);
        if (lr == 0 && la == 0 && lq == 0) continue;
        amts[cnt] = amount(s, s->st[j + 1 < n ? j + 1 : 0], j + 1 < n ? s->en[j + 1] : s->st[0]);
        if (amts[cnt] == NULL) {
            rc = PyErr_Occurred() ? -1 : 0;
            goto done;
        }
    }
    PyObject *group = el(s, 1);
    if (group == NULL) { rc = -1; goto done; }
    PyObject *total = SLOT(owner, k, k == K_2110 ? L_ADJ : C_ADJ);
    if (total == NULL) total = Py_None;
    Py_INCREF(total);
    cnt = 0;
    for (Py_ssize_t j = 2; j < n; j += 3, cnt++) {
        if (amts[cnt] == NULL) continue;
        PyObject *t2 = PyNumber_Add(total, amts[cnt]);
        Py_DECREF(total);
        total = t2;
        if (total == NULL) { Py_DECREF(group); rc = -1; goto done; }
        PyObject *rec = new_record(K_ADJ);
        PyObject *reason = el(s, j);
        PyObject *q = amount_or_none(s, j + 2);
        if (rec == NULL || reason == NULL || q == NULL) {
            Py_XDECREF(rec); Py_XDECREF(reason); Py_XDECREF(q);
            Py_DECREF(group); Py_DECREF(total);
            rc = -1;
            goto done;
        }
        Py_INCREF(group);
        SLOT(rec, K_ADJ, 0) = group;
        SLOT(rec, K_ADJ, 1) = reason;
        SLOT(rec, K_ADJ, 2) = amts[cnt];
        amts[cnt] = NULL;
        SLOT(rec, K_ADJ, 3) = q;
        if (append_new(owner, k, k == K_2110 ? L_ADJS : C_ADJS, rec) < 0) {
            Py_DECREF(group); Py_DECREF(total);
            rc = -1;
            goto done;
        }
    }
    Py_DECREF(group);
    {
        PyObject **slot = &SLOT(owner, k, k == K_2110 ? L_ADJ : C_ADJ);
        PyObject *old = *slot;
        *slot = total;
        Py_XDECREF(old);
    }
    rc = 1;
done:
    for (int j = 0; j < 7; j++) Py_XDECREF(amts[j]);
    return rc;
}

/* AMT / QTY in loop 2100/2110 when the amount reads. */
static int do_amt(const Seg *s, PyObject *owner, int k, int field) {
    if (s->n <= 2) return 0;
    PyObject *a = amount(s, s->st[2], s->en[2]);
    if (a == NULL) return PyErr_Occurred() ? -1 : 0;
    PyObject *rec = new_record(K_AMT);
    PyObject *q = el(s, 1);
    if (rec == NULL || q == NULL) {
        Py_XDECREF(rec); Py_XDECREF(q); Py_DECREF(a);
        return -1;
    }
    SLOT(rec, K_AMT, 0) = q;
    SLOT(rec, K_AMT, 1) = a;
    return append_new(owner, k, field, rec) < 0 ? -1 : 1;
}

static int do_nm1(const Seg *s, PyObject *claim) {
    static const int idx[8] = {1, 2, 3, 4, 5, 7, 8, 9};
    PyObject *rec = new_record(K_NAME);
    if (rec == NULL) return -1;
    for (int j = 0; j < 8; j++) {
        PyObject *v = el(s, idx[j]);
        if (v == NULL) { Py_DECREF(rec); return -1; }
        SLOT(rec, K_NAME, j) = v;
    }
    return append_new(claim, K_2100, C_NAMES, rec) < 0 ? -1 : 1;
}

static int do_lq(const Seg *s, PyObject *svc) {
    PyObject *a = el(s, 1), *b = el(s, 2);
    if (a == NULL || b == NULL) { Py_XDECREF(a); Py_XDECREF(b); return -1; }
    PyObject *t = PyTuple_Pack(2, a, b);
    Py_DECREF(a);
    Py_DECREF(b);
    return append_new(svc, K_2110, L_REMARKS, t) < 0 ? -1 : 1;
}

static PyObject *new_list(void) {
    PyObject *o = PyList_New(0);
    if (o != NULL) UNTRACK(o);
    return o;
}

/* SVC with SVC01..SVC05 only (no SVC06/07), both amounts readable, ISA16 between components. */
static PyObject *do_svc(const Seg *s, PyObject *comp, PyObject *num, PyObject *line) {
    Py_ssize_t n = s->n;
    if (!(3 < n && n < 7)) return NULL;
    if (PyUnicode_GET_LENGTH(comp) != 1) return NULL;
    Py_UCS4 cc = PyUnicode_READ_CHAR(comp, 0);
    Py_ssize_t a0 = s->st[1], a1 = s->en[1], alen = a1 - a0;
    int has_comp = 0;
    for (Py_ssize_t i = a0; i < a1; i++)
        if (CH(s, i) == cc) { has_comp = 1; break; }
    if (!(has_comp || alen <= 3 || Py_UNICODE_ISALNUM(CH(s, a0 + 2)) || CH(s, a0 + 2) == ' ')) return NULL;
    PyObject *ch = amount(s, s->st[2], s->en[2]);
    if (ch == NULL) return NULL;
    PyObject *pd = amount(s, s->st[3], s->en[3]);
    if (pd == NULL) { Py_DECREF(ch); return NULL; }
    /* components of SVC01 */
    Py_ssize_t cst[8], cen[8];
    Py_ssize_t nc = 0, start = a0;
    for (Py_ssize_t i = a0; i < a1; i++) {
        if (CH(s, i) == cc) {
            if (nc < 8) { cst[nc] = start; cen[nc] = i; }
            nc++;
            start = i + 1;
        }
    }
    if (nc < 8) { cst[nc] = start; cen[nc] = a1; }
    nc++;
    PyObject *o = new_record(K_2110);
    PyObject *mods = new_list();
    if (o == NULL || mods == NULL) goto fail;
    for (Py_ssize_t j = 2; j < 6 && j < nc; j++) {
        if (cen[j] > cst[j]) {
            PyObject *m = substr(s, cst[j], cen[j]);
            if (m == NULL || PyList_Append(mods, m) < 0) { Py_XDECREF(m); goto fail; }
            Py_DECREF(m);
        }
    }
    SLOT(o, K_2110, L_MODS) = mods;
    mods = NULL;
    SLOT(o, K_2110, L_QUAL) = substr(s, cst[0], cen[0]);
    SLOT(o, K_2110, L_CODE) = nc > 1 ? substr(s, cst[1], cen[1]) : (Py_INCREF(EMPTY), EMPTY);
    SLOT(o, K_2110, L_CHARGE) = ch;
    SLOT(o, K_2110, L_PAID) = pd;
    ch = pd = NULL;
    SLOT(o, K_2110, L_REV) = el(s, 4);
    SLOT(o, K_2110, L_UNITS) = amount_or_none(s, 5);
    SLOT(o, K_2110, L_DESC) = nc > 6 ? substr(s, cst[6], cen[6]) : (Py_INCREF(EMPTY), EMPTY);
    Py_INCREF(EMPTY);
    SLOT(o, K_2110, L_OQUAL) = EMPTY;
    Py_INCREF(EMPTY);
    SLOT(o, K_2110, L_OCODE) = EMPTY;
    SLOT(o, K_2110, L_OMODS) = new_list();
    Py_INCREF(Py_None);
    SLOT(o, K_2110, L_OUNITS) = Py_None;
    SLOT(o, K_2110, L_DATES) = new_list();
    SLOT(o, K_2110, L_ADJS) = new_list();
    SLOT(o, K_2110, L_REFS) = new_list();
    SLOT(o, K_2110, L_AMTS) = new_list();
    SLOT(o, K_2110, L_QTYS) = new_list();
    SLOT(o, K_2110, L_REMARKS) = new_list();
    Py_INCREF(num);
    SLOT(o, K_2110, L_SEGNUM) = num;
    Py_INCREF(line);
    SLOT(o, K_2110, L_LINE) = line;
    Py_INCREF(ZERO);
    SLOT(o, K_2110, L_ADJ) = ZERO;
    for (int f = 0; f < k_nfields[K_2110]; f++)
        if (SLOT(o, K_2110, f) == NULL) goto fail;
    return o;
fail:
    Py_XDECREF(ch);
    Py_XDECREF(pd);
    Py_XDECREF(mods);
    Py_XDECREF(o);
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return NULL;
}

/* CLP when the handler would make no finding: a new Loop2100, or NULL (no exception: use Python). */
static PyObject *do_clp(const Seg *s, PyObject *lx, PyObject *num, PyObject *line) {
    if (el_len(s, 1) == 0 || el_len(s, 2) == 0 || s->n < 5) return NULL;
    PyObject *ch = amount(s, s->st[3], s->en[3]);
    if (ch == NULL) return NULL;
    PyObject *pd = amount(s, s->st[4], s->en[4]);
    if (pd == NULL) { Py_DECREF(ch); return NULL; }
    PyObject *pr = Py_None;
    Py_INCREF(pr);
    if (el_len(s, 5) > 0) {
        Py_DECREF(pr);
        pr = amount(s, s->st[5], s->en[5]);
        if (pr == NULL) { Py_DECREF(ch); Py_DECREF(pd); return NULL; }
    }
    PyObject *o = new_record(K_2100);
    if (o == NULL) { Py_DECREF(ch); Py_DECREF(pd); Py_DECREF(pr); return NULL; }
    SLOT(o, K_2100, C_PCN) = el(s, 1);
    SLOT(o, K_2100, C_STATUS) = el(s, 2);
    SLOT(o, K_2100, C_CHARGE) = ch;
    SLOT(o, K_2100, C_PAID) = pd;
    SLOT(o, K_2100, C_PR) = pr;
    SLOT(o, K_2100, C_FILING) = el(s, 6);
    SLOT(o, K_2100, C_PAYERNUM) = el(s, 7);
    SLOT(o, K_2100, C_FACILITY) = el(s, 8);
    SLOT(o, K_2100, C_FREQ) = el(s, 9);
    SLOT(o, K_2100, C_PSTATUS) = el(s, 10);
    SLOT(o, K_2100, C_DRG) = el(s, 11);
    SLOT(o, K_2100, C_DRGW) = amount_or_none(s, 12);
    SLOT(o, K_2100, C_DISCH) = amount_or_none(s, 13);
    SLOT(o, K_2100, C_COND) = el(s, 14);
    SLOT(o, K_2100, C_ADJS) = new_list();
    SLOT(o, K_2100, C_NAMES) = new_list();
    Py_INCREF(Py_None);
    SLOT(o, K_2100, C_INPAT) = Py_None;
    Py_INCREF(Py_None);
    SLOT(o, K_2100, C_OUTPAT) = Py_None;
    SLOT(o, K_2100, C_REFS) = new_list();
    SLOT(o, K_2100, C_DATES) = new_list();
    SLOT(o, K_2100, C_CONTACTS) = new_list();
    SLOT(o, K_2100, C_AMTS) = new_list();
    SLOT(o, K_2100, C_QTYS) = new_list();
    SLOT(o, K_2100, C_LINES) = new_list();
    Py_INCREF(lx);
    SLOT(o, K_2100, C_HEADER) = lx;
    Py_INCREF(num);
    SLOT(o, K_2100, C_SEGNUM) = num;
    Py_INCREF(line);
    SLOT(o, K_2100, C_LINE) = line;
    Py_INCREF(ZERO);
    SLOT(o, K_2100, C_ADJ) = ZERO;
    for (int f = 0; f < k_nfields[K_2100]; f++) {
        if (SLOT(o, K_2100, f) == NULL) {
            Py_DECREF(o);
            if (!PyErr_Occurred()) PyErr_NoMemory();
            return NULL;
        }
    }
    return o;
}

/* ------------------------------------------------------------------ reader state */
typedef struct {
    PyObject *reader;     /* the ReaderState */
    PyObject *end_claim;  /* the Python end_claim(state), for claims that do not balance */
    int in_set;           /* state.rem is not None */
    PyObject *loop;       /* new refs */
    PyObject *claim;
    PyObject *svc;
    PyObject *comp;
    int loopk;       /* 1: 2110, 2: 2100, 0: other */
} State;

static void state_clear(State *st) {
    Py_CLEAR(st->loop);
    Py_CLEAR(st->claim);
    Py_CLEAR(st->svc);
    Py_CLEAR(st->comp);
}

static int state_load(State *st) {
    state_clear(st);
    st->loop = PyObject_GetAttr(st->reader, s_loop);
    st->claim = PyObject_GetAttr(st->reader, s_claim);
    st->svc = PyObject_GetAttr(st->reader, s_svc);
    st->comp = PyObject_GetAttr(st->reader, s_comp);
    if (!st->loop || !st->claim || !st->svc || !st->comp) return -1;
    PyObject *rem = PyObject_GetAttr(st->reader, s_rem);
    if (rem == NULL) return -1;
    st->in_set = rem != Py_None;
    Py_DECREF(rem);
    st->loopk = 0;
    if (PyUnicode_Check(st->loop)) {
        if (PyUnicode_Compare(st->loop, s_2110) == 0) st->loopk = 1;
        else if (PyUnicode_Compare(st->loop, s_2100) == 0) st->loopk = 2;
    }
    if (PyErr_Occurred()) return -1;
    return 0;
}

static int end_claim(State *st, PyObject *claim);

/* Segment number and line of the segment being read, as Python ints made only when needed (most
 * segments never need them); one object serves both when they are equal (one segment per line). */
typedef struct {
    Py_ssize_t num, line;
    PyObject *num_o, *line_o; /* owned, NULL until asked for */
} Pos;

static PyObject *pos_num(Pos *p) {
    if (p->num_o == NULL) {
        if (p->line_o != NULL && p->line == p->num) {
            Py_INCREF(p->line_o);
            p->num_o = p->line_o;
        } else {
            p->num_o = PyLong_FromSsize_t(p->num);
        }
    }
    return p->num_o;
}

static PyObject *pos_line(Pos *p) {
    if (p->line_o == NULL) {
        if (p->num_o != NULL && p->line == p->num) {
            Py_INCREF(p->num_o);
            p->line_o = p->num_o;
        } else {
            p->line_o = PyLong_FromSsize_t(p->line);
        }
    }
    return p->line_o;
}

static void pos_clear(Pos *p) {
    Py_CLEAR(p->num_o);
    Py_CLEAR(p->line_o);
}

/* One segment str[a:b] inside a transaction set: 1 when built here, 0 to leave it to Python,
 * -1 on error. */
static int hot_segment(State *st, Seg *seg, Pos *pos) {
    PyObject *reader = st->reader;
    int r = 0;
    if (st->loopk == 1 && st->svc != Py_None && Py_IS_TYPE(st->svc, k_type[K_2110])) {
        PyObject *svc = st->svc;
        if (id_is(seg, "DTM")) r = append_new(svc, K_2110, L_DATES, pair_record(K_DTM, seg)) < 0 ? -1 : 1;
        else if (id_is(seg, "CAS")) r = do_cas(seg, svc, K_2110);
        else if (id_is(seg, "REF")) r = append_new(svc, K_2110, L_REFS, pair_record(K_REF, seg)) < 0 ? -1 : 1;
        else if (id_is(seg, "AMT")) r = do_amt(seg, svc, K_2110, L_AMTS);
        else if (id_is(seg, "QTY")) r = do_amt(seg, svc, K_2110, L_QTYS);
        else if (id_is(seg, "LQ")) r = do_lq(seg, svc);
    } else if (st->loopk == 2 && st->claim != Py_None && Py_IS_TYPE(st->claim, k_type[K_2100])) {
        PyObject *claim = st->claim;
        if (id_is(seg, "DTM")) r = append_new(claim, K_2100, C_DATES, pair_record(K_DTM, seg)) < 0 ? -1 : 1;
        else if (id_is(seg, "CAS")) r = do_cas(seg, claim, K_2100);
        else if (id_is(seg, "NM1")) r = do_nm1(seg, claim);
        else if (id_is(seg, "REF")) r = append_new(claim, K_2100, C_REFS, pair_record(K_REF, seg)) < 0 ? -1 : 1;
        else if (id_is(seg, "AMT")) r = do_amt(seg, claim, K_2100, C_AMTS);
        else if (id_is(seg, "QTY")) r = do_amt(seg, claim, K_2100, C_QTYS);
    }
    if (r != 0) return r;
    if (st->loopk != 0 && id_is(seg, "SVC") && st->claim != Py_None && Py_IS_TYPE(st->claim, k_type[K_2100])) {
        PyObject *num = pos_num(pos), *line = num == NULL ? NULL : pos_line(pos);
        if (line == NULL) return -1;
        PyObject *svc = do_svc(seg, st->comp, num, line);
        if (svc == NULL) return PyErr_Occurred() ? -1 : 0;
        Py_INCREF(svc);
        if (append_new(st->claim, K_2100, C_LINES, svc) < 0 || PyObject_SetAttr(reader, s_svc, svc) < 0) {
            Py_DECREF(svc);
            return -1;
        }
        Py_SETREF(st->svc, svc);
        if (st->loopk != 1) {
            if (PyObject_SetAttr(reader, s_loop, s_2110) < 0) return -1;
            Py_INCREF(s_2110);
            Py_SETREF(st->loop, s_2110);
            st->loopk = 1;
        }
        return 1;
    }
    if (id_is(seg, "CLP")) {
        if (PyUnicode_Check(st->loop) && PyUnicode_CompareWithASCIIString(st->loop, "FOOTER") == 0) return 0;
        PyObject *lx = PyObject_GetAttr(reader, s_lx);
        if (lx == NULL) return -1;
        PyObject *num = pos_num(pos), *line = num == NULL ? NULL : pos_line(pos);
        if (line == NULL) { Py_DECREF(lx); return -1; }
        PyObject *claim = do_clp(seg, lx, num, line);
        Py_DECREF(lx);
        if (claim == NULL) return PyErr_Occurred() ? -1 : 0;
        if (st->claim != Py_None && end_claim(st, st->claim) < 0) {
            Py_DECREF(claim);
            return -1;
        }
        if (PyObject_SetAttr(reader, s_claim, claim) < 0 || PyObject_SetAttr(reader, s_svc, Py_None) < 0 ||
            PyObject_SetAttr(reader, s_loop, s_2100) < 0) {
            Py_DECREF(claim);
            return -1;
        }
        Py_SETREF(st->claim, claim);
        Py_INCREF(Py_None);
        Py_SETREF(st->svc, Py_None);
        Py_INCREF(s_2100);
        Py_SETREF(st->loop, s_2100);
        st->loopk = 2;
        return 1;
    }
    return 0;
}

/* end_claim(state) for a claim that balances (claim and every line): the same bookkeeping
 * (state.claim = state.svc = None, counts, totals, rem.claims when keep_claims, on_claim). 0 when
 * the Python end_claim must run instead (a line or the claim out of balance: it makes the
 * finding), -1 on error. */
static int end_claim_fast(PyObject *reader, PyObject *claim) {
    if (!Py_IS_TYPE(claim, k_type[K_2100])) return 0;
    PyObject *lines = SLOT(claim, K_2100, C_LINES);
    PyObject *claim_adj = SLOT(claim, K_2100, C_ADJ);
    if (lines == NULL || !PyList_Check(lines) || claim_adj == NULL || claim_adj == Py_None) return 0;
    Py_ssize_t nl = PyList_GET_SIZE(lines);
    PyObject *line_adj = ZERO, *t;
    Py_INCREF(line_adj);
    int ok = 1;
    for (Py_ssize_t j = 0; j < nl && ok == 1; j++) {
        PyObject *ln = PyList_GET_ITEM(lines, j);
        PyObject *adj = Py_IS_TYPE(ln, k_type[K_2110]) ? SLOT(ln, K_2110, L_ADJ) : NULL;
        if (adj == NULL || adj == Py_None) { ok = 0; break; }
        t = PyNumber_Add(line_adj, adj);
        Py_SETREF(line_adj, t);
        if (line_adj == NULL) return -1;
        PyObject *ch = SLOT(ln, K_2110, L_CHARGE), *pd = SLOT(ln, K_2110, L_PAID);
        if (ch != NULL && pd != NULL && ch != Py_None && pd != Py_None) {
            PyObject *net = PyNumber_Subtract(ch, adj);
            if (net == NULL) { Py_DECREF(line_adj); return -1; }
            int ne = PyObject_RichCompareBool(net, pd, Py_NE);
            Py_DECREF(net);
            if (ne < 0) { Py_DECREF(line_adj); return -1; }
            if (ne) ok = 0;
        } else if (ch == NULL || pd == NULL) {
            ok = 0;
        }
    }
    if (ok != 1) {
        Py_DECREF(line_adj);
        return 0;
    }
    PyObject *ch = SLOT(claim, K_2100, C_CHARGE), *pd = SLOT(claim, K_2100, C_PAID);
    if (ch == NULL || pd == NULL) { Py_DECREF(line_adj); return 0; }
    if (ch != Py_None && pd != Py_None) {
        PyObject *e1 = PyNumber_Subtract(ch, claim_adj);
        PyObject *expect = e1 == NULL ? NULL : PyNumber_Subtract(e1, line_adj);
        Py_XDECREF(e1);
        Py_DECREF(line_adj);
        if (expect == NULL) return -1;
        int ne = PyObject_RichCompareBool(expect, pd, Py_NE);
        Py_DECREF(expect);
        if (ne < 0) return -1;
        if (ne) return 0;
    } else {
        Py_DECREF(line_adj);
    }
    PyObject *rem = PyObject_GetAttr(reader, s_rem);
    if (rem == NULL) return -1;
    int rc = -1;
    PyObject *v = NULL, *nv = NULL, *nlines = NULL, *keep = NULL, *hook = NULL;
    if (PyObject_SetAttr(reader, s_claim, Py_None) < 0 || PyObject_SetAttr(reader, s_svc, Py_None) < 0) goto out;
#define BUMP(name, by) \
    v = PyObject_GetAttr(rem, name); \
    if (v == NULL) goto out; \
    nv = PyNumber_Add(v, by); \
    Py_CLEAR(v); \
    if (nv == NULL || PyObject_SetAttr(rem, name, nv) < 0) goto out; \
    Py_CLEAR(nv);
    nlines = PyLong_FromSsize_t(nl);
    if (nlines == NULL) goto out;
    BUMP(s_claim_count, ONE)
    BUMP(s_line_count, nlines)
    if (ch != Py_None) { BUMP(s_total_charge, ch) }
    if (pd != Py_None) { BUMP(s_total_paid, pd) }
#undef BUMP
    keep = PyObject_GetAttr(reader, s_keep_claims);
    if (keep == NULL) goto out;
    int k = PyObject_IsTrue(keep);
    if (k < 0) goto out;
    if (k) {
        PyObject *claims = PyObject_GetAttr(rem, s_claims);
        if (claims == NULL) goto out;
        int r = PyList_Check(claims) ? PyList_Append(claims, claim) : -1;
        if (!PyList_Check(claims)) PyErr_SetString(PyExc_TypeError, "rem.claims is not a list");
        Py_DECREF(claims);
        if (r < 0) goto out;
    }
    hook = PyObject_GetAttr(reader, s_on_claim);
    if (hook == NULL) goto out;
    if (hook != Py_None) {
        PyObject *hargs[2] = {rem, claim};
        PyObject *res = PyObject_Vectorcall(hook, hargs, 2, NULL);
        if (res == NULL) goto out;
        Py_DECREF(res);
    }
    rc = 1;
out:
    Py_XDECREF(v);
    Py_XDECREF(nv);
    Py_XDECREF(nlines);
    Py_XDECREF(keep);
    Py_XDECREF(hook);
    Py_DECREF(rem);
    return rc;
}

/* Close the open claim: here when it balances, else the Python end_claim(state). */
static int end_claim(State *st, PyObject *claim) {
    int r = end_claim_fast(st->reader, claim);
    if (r != 0) return r < 0 ? -1 : 0;
    PyObject *res = PyObject_CallOneArg(st->end_claim, st->reader);
    if (res == NULL) return -1;
    Py_DECREF(res);
    return 0;
}

/* drive(state, batch, first, lines, i, elem, dispatch, end_claim) -> (next index, Remittance or None)
 * Runs the reader over segments batch[i:] until a transaction set is finished (returned) or the
 * batch ends (None). The batch is either a list of segment strings with a list of their lines, or
 * a region from scan(): (text, bounds) with the lines as packed integers. The pure-Python driver
 * (edi.x835.reader._run_python) is the same loop, every segment through dispatch. */
static PyObject *drive(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "drive() takes 8 arguments");
        return NULL;
    }
    if (!ready) {
        PyErr_SetString(PyExc_RuntimeError, "835 accelerator not set up");
        return NULL;
    }
    PyObject *reader = args[0], *batch = args[1], *lines = args[3], *elem_o = args[5];
    PyObject *dispatch = args[6], *end_claim_py = args[7];
    Py_ssize_t first = PyLong_AsSsize_t(args[2]);
    Py_ssize_t i = PyLong_AsSsize_t(args[4]);
    if (PyErr_Occurred()) return NULL;
    PyObject *region = NULL;
    const Py_ssize_t *bounds = NULL, *rlines = NULL;
    Py_ssize_t nb;
    if (PyList_Check(batch) && PyList_Check(lines) && PyList_GET_SIZE(lines) == PyList_GET_SIZE(batch)) {
        nb = PyList_GET_SIZE(batch);
    } else if (PyTuple_Check(batch) && PyTuple_GET_SIZE(batch) == 2 && PyUnicode_Check(PyTuple_GET_ITEM(batch, 0)) &&
               PyBytes_Check(PyTuple_GET_ITEM(batch, 1)) && PyBytes_Check(lines) &&
               PyBytes_GET_SIZE(PyTuple_GET_ITEM(batch, 1)) == 2 * PyBytes_GET_SIZE(lines) &&
               PyBytes_GET_SIZE(lines) % sizeof(Py_ssize_t) == 0) {
        region = PyTuple_GET_ITEM(batch, 0);
        bounds = (const Py_ssize_t *)PyBytes_AS_STRING(PyTuple_GET_ITEM(batch, 1));
        rlines = (const Py_ssize_t *)PyBytes_AS_STRING(lines);
        nb = PyBytes_GET_SIZE(lines) / (Py_ssize_t)sizeof(Py_ssize_t);
    } else {
        PyErr_SetString(PyExc_TypeError, "drive(): bad batch");
        return NULL;
    }
    if (!PyCallable_Check(dispatch) || !PyCallable_Check(end_claim_py) || !PyUnicode_Check(elem_o) ||
        PyUnicode_GET_LENGTH(elem_o) != 1) {
        PyErr_SetString(PyExc_TypeError, "drive(): bad arguments");
        return NULL;
    }
    Py_UCS4 elem = PyUnicode_READ_CHAR(elem_o, 0);
    State st = {reader, end_claim_py, 0, NULL, NULL, NULL, NULL, 0};
    if (state_load(&st) < 0) goto error;
    Seg seg;
    PyObject *done = NULL;
    for (; i < nb; i++) {
        PyObject *str;
        Py_ssize_t a, b;
        Pos pos = {first + i, 0, NULL, NULL};
        if (region != NULL) {
            str = region;
            a = bounds[2 * i];
            b = bounds[2 * i + 1];
            pos.line = rlines[i];
        } else {
            str = PyList_GET_ITEM(batch, i);
            pos.line_o = PyList_GET_ITEM(lines, i);
            Py_INCREF(pos.line_o);
            pos.line = PyLong_AsSsize_t(pos.line_o);
            if (pos.line == -1 && PyErr_Occurred()) { pos_clear(&pos); goto error; }
            if (!PyUnicode_Check(str)) {
                pos_clear(&pos);
                PyErr_SetString(PyExc_TypeError, "drive(): segments must be str");
                goto error;
            }
            a = 0;
            b = PyUnicode_GET_LENGTH(str);
        }
        if (st.in_set && seg_parse(&seg, str, a, b, elem)) {
            int r = hot_segment(&st, &seg, &pos);
            if (r != 0) {
                pos_clear(&pos);
                if (r < 0) goto error;
                continue;
            }
        }
        /* everything else: dispatch (the reader's handlers and envelope code), on str.split() elements */
        PyObject *els;
        if (region != NULL) {
            PyObject *text = PyUnicode_Substring(region, a, b);
            els = text == NULL ? NULL : PyUnicode_Split(text, elem_o, -1);
            Py_XDECREF(text);
        } else {
            els = PyUnicode_Split(str, elem_o, -1);
        }
        PyObject *num = els == NULL ? NULL : pos_num(&pos);
        PyObject *line = num == NULL ? NULL : pos_line(&pos);
        if (line == NULL) { Py_XDECREF(els); pos_clear(&pos); goto error; }
        PyObject *cargs[4] = {reader, els, num, line};
        done = PyObject_Vectorcall(dispatch, cargs, 4, NULL);
        Py_DECREF(els);
        pos_clear(&pos);
        if (done == NULL) goto error;
        if (state_load(&st) < 0) { Py_DECREF(done); goto error; }
        if (done != Py_None) {
            i++;
            break;
        }
        Py_DECREF(done);
        done = NULL;
    }
    state_clear(&st);
    if (done == NULL) {
        Py_INCREF(Py_None);
        done = Py_None;
    }
    return Py_BuildValue("(nN)", i, done);
error:
    state_clear(&st);
    return NULL;
}

static inline int is_ws(Py_UCS4 c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0b || c == 0x0c || c == 0xfeff || c == 0;
}

/* scan(text, term, elem, line, nl_term) -> None | (n, line_after, last_sid, last_line, bounds, lines)
 *
 * The tokenizer's regular case for text = complete segments (each followed by ``term``, the last
 * one possibly not): pieces between terminators, stripped of white space; None (nothing done)
 * when a stripped piece holds a line break or the stripped text holds "ISA" (the tokenizer's
 * slow path then takes it, as it would without this). Lines as in the tokenizer: with a line
 * break as terminator, the piece's ordinal; otherwise the line after the line breaks up to the end
 * of the piece. last_sid: the segment id of the last piece when it is not empty, else None. */
static PyObject *scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1]) || !PyUnicode_Check(args[2]) ||
        PyUnicode_GET_LENGTH(args[1]) != 1 || PyUnicode_GET_LENGTH(args[2]) != 1) {
        PyErr_SetString(PyExc_TypeError, "scan(text, term, elem, line, nl_term)");
        return NULL;
    }
    PyObject *text = args[0];
    Py_UCS4 term = PyUnicode_READ_CHAR(args[1], 0), elem = PyUnicode_READ_CHAR(args[2], 0);
    Py_ssize_t line = PyLong_AsSsize_t(args[3]);
    int nl_term = PyObject_IsTrue(args[4]);
    if (PyErr_Occurred() || nl_term < 0) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    Py_ssize_t cap = 1024, n = 0;
    Py_ssize_t *bounds = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * cap);
    Py_ssize_t *lines = PyMem_Malloc(sizeof(Py_ssize_t) * cap);
    if (bounds == NULL || lines == NULL) {
        PyMem_Free(bounds);
        PyMem_Free(lines);
        return PyErr_NoMemory();
    }
    Py_UCS4 c1 = 0, c2 = 0; /* last two characters of the stripped text, for "ISA" */
    Py_ssize_t cum = 0, piece = 0, ps = 0, last_a = -1, last_b = -1, last_line = line;
    int irregular = 0;
    if (kind == PyUnicode_1BYTE_KIND && len >= 3 && memmem(data, (size_t)len, "ISA", 3) != NULL) irregular = 1;
    while (!irregular) {
        /* the piece [ps, pe) */
        Py_ssize_t pe = ps;
        Py_ssize_t nls = 0;
        if (kind == PyUnicode_1BYTE_KIND && term < 256) {
            const char *d = (const char *)data;
            const char *p = memchr(d + ps, (int)term, (size_t)(len - ps));
            pe = p == NULL ? len : p - d;
            if (!nl_term) {
                const char *q = d + ps, *e = d + pe;
                while ((q = memchr(q, '\n', (size_t)(e - q))) != NULL) { nls++; q++; }
            }
        } else {
            while (pe < len && PyUnicode_READ(kind, data, pe) != term) {
                if (PyUnicode_READ(kind, data, pe) == '\n') nls++;
                pe++;
            }
            if (nl_term) nls = 0;
        }
        cum += nls;
        Py_ssize_t pline = nl_term ? line + piece : line + cum;
        Py_ssize_t a = ps, b = pe;
        while (a < b && is_ws(PyUnicode_READ(kind, data, a))) a++;
        while (b > a && is_ws(PyUnicode_READ(kind, data, b - 1))) b--;
        if (a < b) {
            if (kind == PyUnicode_1BYTE_KIND) {
                /* line breaks inside the piece; "ISA" inside one piece was looked for in the whole
                 * text at once (those letters are neither white space nor a terminator), so only
                 * the joins between pieces are left: the first two characters after the last two */
                const char *d = (const char *)data;
                if (memchr(d + a, '\n', (size_t)(b - a)) != NULL || memchr(d + a, '\r', (size_t)(b - a)) != NULL) {
                    irregular = 1;
                    break;
                }
                Py_ssize_t stop = b - a < 2 ? b : a + 2;
                for (Py_ssize_t j = a; j < stop; j++) {
                    Py_UCS4 c = (unsigned char)d[j];
                    if (c == 'A' && c2 == 'S' && c1 == 'I') {
                        irregular = 1;
                        break;
                    }
                    c1 = c2;
                    c2 = c;
                }
                if (irregular) break;
                if (b - a > 2) {
                    c1 = (unsigned char)d[b - 2];
                    c2 = (unsigned char)d[b - 1];
                }
            } else {
                for (Py_ssize_t j = a; j < b; j++) {
                    Py_UCS4 c = PyUnicode_READ(kind, data, j);
                    if (c == '\n' || c == '\r' || (c == 'A' && c2 == 'S' && c1 == 'I')) {
                        irregular = 1;
                        break;
                    }
                    c1 = c2;
                    c2 = c;
                }
                if (irregular) break;
            }
            if (n == cap) {
                cap *= 2;
                Py_ssize_t *nb2 = PyMem_Realloc(bounds, sizeof(Py_ssize_t) * 2 * cap);
                if (nb2 == NULL) { irregular = -1; break; }
                bounds = nb2;
                Py_ssize_t *nl2 = PyMem_Realloc(lines, sizeof(Py_ssize_t) * cap);
                if (nl2 == NULL) { irregular = -1; break; }
                lines = nl2;
            }
            bounds[2 * n] = a;
            bounds[2 * n + 1] = b;
            lines[n] = pline;
            n++;
        }
        last_a = a;
        last_b = b;
        last_line = pline;
        piece++;
        if (pe >= len) break;
        ps = pe + 1;
    }
    PyObject *result = NULL;
    if (irregular < 0) {
        PyErr_NoMemory();
    } else if (irregular) {
        Py_INCREF(Py_None);
        result = Py_None;
    } else {
        PyObject *last_sid;
        if (last_a < last_b) {
            Py_ssize_t k = last_a;
            while (k < last_b && PyUnicode_READ(kind, data, k) != elem) k++;
            last_sid = PyUnicode_Substring(text, last_a, k);
        } else {
            Py_INCREF(Py_None);
            last_sid = Py_None;
        }
        PyObject *pb = PyBytes_FromStringAndSize((const char *)bounds, (Py_ssize_t)sizeof(Py_ssize_t) * 2 * n);
        PyObject *pl = PyBytes_FromStringAndSize((const char *)lines, (Py_ssize_t)sizeof(Py_ssize_t) * n);
        Py_ssize_t after = nl_term ? line + piece : line + cum;
        if (last_sid != NULL && pb != NULL && pl != NULL)
            result = Py_BuildValue("(nnOnOO)", n, after, last_sid, last_line, pb, pl);
        Py_XDECREF(last_sid);
        Py_XDECREF(pb);
        Py_XDECREF(pl);
    }
    PyMem_Free(bounds);
    PyMem_Free(lines);
    return result;
}

/* setup(classes: dict name -> class, Decimal, InvalidOperation, big, zero): see the top of this file. */
static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *classes, *dec, *invop, *big, *zero;
    if (!PyArg_ParseTuple(args, "O!OOOO", &PyDict_Type, &classes, &dec, &invop, &big, &zero)) return NULL;
    for (int k = 0; k < K_COUNT; k++) {
        PyObject *cls = PyDict_GetItemString(classes, k_names[k]);
        if (cls == NULL || !PyType_Check(cls)) {
            PyErr_Format(PyExc_TypeError, "setup(): class %s missing", k_names[k]);
            return NULL;
        }
        PyObject *slots = PyObject_GetAttrString(cls, "__slots__");
        if (slots == NULL) return NULL;
        Py_ssize_t nslots = PySequence_Size(slots);
        Py_DECREF(slots);
        int nf = 0;
        while (k_fields[k][nf] != NULL) nf++;
        if (nslots != nf) {
            PyErr_Format(PyExc_TypeError, "setup(): %s has %zd slots, expected %d", k_names[k], nslots, nf);
            return NULL;
        }
        PyObject *dict = ((PyTypeObject *)cls)->tp_dict;
        for (int f = 0; f < nf; f++) {
            PyObject *d = PyDict_GetItemString(dict, k_fields[k][f]);
            if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type)) {
                PyErr_Format(PyExc_TypeError, "setup(): %s.%s is not a slot", k_names[k], k_fields[k][f]);
                return NULL;
            }
            PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            if (m->type != T_OBJECT_EX || (m->flags & READONLY)) {
                PyErr_Format(PyExc_TypeError, "setup(): %s.%s is not an object slot", k_names[k], k_fields[k][f]);
                return NULL;
            }
            k_off[k][f] = m->offset;
        }
        k_nfields[k] = nf;
        Py_INCREF(cls);
        Py_XSETREF(k_type[k], (PyTypeObject *)cls);
    }
    Py_INCREF(dec); Py_XSETREF(Decimal, dec);
    Py_INCREF(invop); Py_XSETREF(InvalidOperation, invop);
    Py_INCREF(big); Py_XSETREF(BIG, big);
    Py_INCREF(zero); Py_XSETREF(ZERO, zero);
    PyObject *nb = PyNumber_Negative(big);
    if (nb == NULL) return NULL;
    Py_XSETREF(NEG_BIG, nb);
    ready = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"drive", (PyCFunction)(void (*)(void))drive, METH_FASTCALL, "Run the 835 reader over a batch of segments."},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL, "Find the segments of a run of regular X12 text."},
    {"setup", setup, METH_VARARGS, "Bind the model classes and constants."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel", "Compiled driver of the 835 reader (edi.x835.reader).", -1, methods};

PyMODINIT_FUNC PyInit__accel(void) {
#define INTERN(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL
    INTERN(s_loop, "loop");
    INTERN(s_claim, "claim");
    INTERN(s_svc, "svc");
    INTERN(s_comp, "comp");
    INTERN(s_rem, "rem");
    INTERN(s_lx, "lx");
    INTERN(s_on_claim, "on_claim");
    INTERN(s_2110, "2110");
    INTERN(s_2100, "2100");
    INTERN(EMPTY, "");
    INTERN(s_claim_count, "claim_count");
    INTERN(s_line_count, "line_count");
    INTERN(s_total_charge, "total_charge");
    INTERN(s_total_paid, "total_paid");
    INTERN(s_keep_claims, "keep_claims");
    INTERN(s_claims, "claims");
    if ((ONE = PyLong_FromLong(1)) == NULL) return NULL;
#undef INTERN
    return PyModule_Create(&module);
}
