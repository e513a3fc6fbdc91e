/*
 * gen_events.c - deterministic generator of synthetic payment events
 *
 * Prints PostgreSQL COPY text format (tab separated, \N for NULL) to stdout:
 *
 *   ts timestamptz, merchant_id int, method text, status text, currency text,
 *   card_issuer text, channel text, attrs jsonb, amount bigint, fee bigint,
 *   event_id text, version bigint
 *
 * Same -n and -s give byte-identical output: one xoshiro256** stream drives
 * every choice, in row order.  Only +, -, *, /, pow, log, exp, sqrt and cos
 * of the C library are used; a libm that rounds differently in the last ulp
 * could in principle flip a rare value, so compare checksums made with the
 * same libc (the run script prints one).
 *
 *   cc -O2 -o gen_events gen_events.c -lm
 *   ./gen_events [-n rows] [-s seed] [-M] > events.tsv
 *
 *   -n rows   number of events (default 10000000)
 *   -s seed   seed (default 42)
 *   -M        print the merchants dimension table instead of events:
 *             merchant_id int, name text, country text, currency text,
 *             category text, created date
 *
 * The data is shaped like a European payment service provider's event
 * stream; see README.md for the distributions and the rollup ratios they
 * produce.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- RNG --- */

static uint64_t rng_s[4];

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* bijective 64-bit mixer (the splitmix64 finalizer) */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline uint64_t
rng_next(void)
{
	uint64_t	result = rotl(rng_s[1] * 5, 7) * 9;
	uint64_t	t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return result;
}

static void
rng_seed(uint64_t seed)
{
	uint64_t	x = seed;

	for (int i = 0; i < 4; i++)
		rng_s[i] = splitmix64(&x);
}

/* uniform in [0,1) */
static inline double
rnd(void)
{
	return (double) (rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* standard normal (Box-Muller, one value per call) */
static double
rnd_normal(void)
{
	double		u1 = rnd(),
				u2 = rnd();

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* -------------------------------------------------- discrete choices --- */

typedef struct
{
	int			n;
	const char *const *names;
	double		cum[64];		/* cumulative probabilities, cum[n-1] == 1 */
} Dist;

static void
dist_init(Dist *d, int n, const char *const *names, const double *w)
{
	double		tot = 0,
				c = 0;

	d->n = n;
	d->names = names;
	for (int i = 0; i < n; i++)
		tot += w[i];
	for (int i = 0; i < n; i++)
	{
		c += w[i];
		d->cum[i] = c / tot;
	}
	d->cum[n - 1] = 1.0;
}

static inline int
dist_pick(const Dist *d)
{
	double		u = rnd();
	int			i = 0;

	while (i < d->n - 1 && u >= d->cum[i])
		i++;
	return i;
}

/* ---------------------------------------------------------- the shape --- */

#define N_MERCHANTS 20000
/*
 * merchant popularity: a mixture of a steep Zipf (a few big merchants
 * dominate) and a flat one (a long tail of small shops that all trade daily)
 */
#define ZIPF_MERCHANT_HEAD 1.2
#define ZIPF_MERCHANT_TAIL 0.2
#define MERCHANT_HEAD_SHARE 0.30
#define ZIPF_LOCAL_ISSUER 2.0	/* banks within a country ~ 1 / rank^s */
#define ZIPF_GLOBAL_ISSUER 1.5	/* pan-European / global issuers */
#define HOME_SHOPPER 0.95		/* shoppers from the merchant's own country */
#define LOCAL_ISSUER 0.95		/* cards issued by a bank of the shopper's country */
#define N_MULTI_CURRENCY 200	/* the biggest merchants price in the shopper's currency */

#define T0_EPOCH 1790812800LL	/* 2026-10-01 00:00:00+00 */
#define N_DAYS 30
#define N_HOURS (N_DAYS * 24)

enum
{
	M_CARD, M_APPLE_PAY, M_GOOGLE_PAY, M_PAYPAL, M_IDEAL, M_SEPA, M_KLARNA,
	N_METHODS
};
static const char *const method_names[N_METHODS] = {
	"card", "apple_pay", "google_pay", "paypal", "ideal", "sepa", "klarna"
};
static const int method_is_card[N_METHODS] = {1, 0, 0, 0, 0, 0, 0};

enum
{
	C_WEB, C_APP, C_POS, C_MOTO, N_CHANNELS
};
static const char *const channel_names[N_CHANNELS] = {"web", "app", "pos", "moto"};
static const double channel_w[N_CHANNELS] = {0.56, 0.32, 0.10, 0.02};

/* method given channel */
static const double method_w[N_CHANNELS][N_METHODS] = {
	/* card  apple  google paypal ideal  sepa   klarna */
	{0.50, 0.08, 0.03, 0.14, 0.13, 0.09, 0.03},	/* web */
	{0.42, 0.28, 0.10, 0.10, 0.06, 0.00, 0.04},	/* app */
	{0.80, 0.14, 0.06, 0.00, 0.00, 0.00, 0.00},	/* pos */
	{1.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00},	/* moto */
};

enum
{
	S_APPROVED, S_DECLINED, S_REFUNDED, S_CHARGEBACK, S_PENDING, N_STATUS
};
static const char *const status_names[N_STATUS] = {
	"approved", "declined", "refunded", "chargeback", "pending"
};
/*
 * status given method: cards are authorised synchronously (no pending) and
 * can be charged back; bank and wallet payments can stay pending
 */
static const double status_w[N_METHODS][N_STATUS] = {
	/* appr  decl   refund chargeb pending */
	{0.890, 0.094, 0.012, 0.004, 0.000},	/* card */
	{0.915, 0.072, 0.011, 0.002, 0.000},	/* apple_pay */
	{0.910, 0.076, 0.012, 0.002, 0.000},	/* google_pay */
	{0.890, 0.040, 0.018, 0.000, 0.052},	/* paypal */
	{0.925, 0.035, 0.010, 0.000, 0.030},	/* ideal */
	{0.850, 0.020, 0.010, 0.000, 0.120},	/* sepa */
	{0.850, 0.110, 0.020, 0.000, 0.020},	/* klarna */
};

#define N_CURRENCIES 8
static const char *const currency_names[N_CURRENCIES] = {
	"EUR", "USD", "GBP", "SEK", "CHF", "PLN", "DKK", "NOK"
};
/* merchants' home currencies */
static const double currency_w[N_CURRENCIES] = {
	0.78, 0.09, 0.07, 0.02, 0.015, 0.01, 0.008, 0.007
};
/* home country of a merchant, by its currency (EUR: several) */
static const char *const eur_countries[] = {"NL", "DE", "FR", "BE", "ES", "IT", "AT", "IE"};
static const double eur_country_w[] = {0.55, 0.18, 0.07, 0.10, 0.03, 0.03, 0.02, 0.02};
static const char *const currency_country[N_CURRENCIES] = {
	NULL, "US", "GB", "SE", "CH", "PL", "DK", "NO"
};

#define N_COUNTRIES 16
static const char *const country_names[N_COUNTRIES] = {
	"NL", "DE", "FR", "BE", "ES", "IT", "AT", "IE",
	"US", "GB", "SE", "CH", "PL", "DK", "NO", "CA"
};
static const double country_w[N_COUNTRIES] = {
	0.30, 0.15, 0.06, 0.08, 0.04, 0.04, 0.02, 0.02,
	0.10, 0.09, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01
};

#define N_ISSUERS 40
static const char *const issuer_names[N_ISSUERS] = {
	"ING", "Rabobank", "ABN AMRO", "Barclays", "HSBC", "Chase",
	"BNP Paribas", "Deutsche Bank", "Societe Generale", "Santander",
	"Revolut", "Capital One", "Lloyds", "Commerzbank", "Credit Agricole",
	"UniCredit", "Intesa Sanpaolo", "BBVA", "N26", "Monzo", "Citi",
	"Bank of America", "Wells Fargo", "American Express", "Nordea",
	"Danske Bank", "SEB", "Swedbank", "UBS", "PostFinance", "PKO BP",
	"mBank", "KBC", "Belfius", "Sparkasse", "DZ Bank", "NatWest",
	"Bunq", "Erste Bank", "Raiffeisen"
};

/* the banks of each country in country_names order, biggest first */
#define MAX_LOCAL_ISSUERS 6
static const char *const country_issuer_names[N_COUNTRIES][MAX_LOCAL_ISSUERS] = {
	{"ING", "Rabobank", "ABN AMRO", "Bunq"},	/* NL */
	{"Sparkasse", "Deutsche Bank", "Commerzbank", "DZ Bank", "N26"},	/* DE */
	{"BNP Paribas", "Credit Agricole", "Societe Generale"},	/* FR */
	{"KBC", "Belfius", "ING"},	/* BE */
	{"Santander", "BBVA"},		/* ES */
	{"Intesa Sanpaolo", "UniCredit"},	/* IT */
	{"Erste Bank", "Raiffeisen"},	/* AT */
	{"Revolut"},				/* IE */
	{"Chase", "Capital One", "Bank of America", "Citi", "Wells Fargo",
	"American Express"},		/* US */
	{"Barclays", "HSBC", "Lloyds", "NatWest", "Monzo"},	/* GB */
	{"Swedbank", "SEB", "Nordea"},	/* SE */
	{"UBS", "PostFinance"},		/* CH */
	{"PKO BP", "mBank"},		/* PL */
	{"Danske Bank", "Nordea"},	/* DK */
	{"Nordea"},					/* NO */
	{"Capital One"},			/* CA */
};
/* cards from anywhere: neobanks, charge cards, global banks */
#define N_GLOBAL_ISSUERS 8
static const char *const global_issuer_names[N_GLOBAL_ISSUERS] = {
	"Revolut", "American Express", "HSBC", "N26", "Citi", "Santander",
	"ING", "Wells Fargo"
};
/* currency a shopper of each country pays in */
static const int country_currency[N_COUNTRIES] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 1
};

#define N_CATEGORIES 10
static const char *const category_names[N_CATEGORIES] = {
	"retail", "food_delivery", "travel", "digital_goods", "fashion",
	"electronics", "subscriptions", "gaming", "grocery", "mobility"
};

/* hour-of-day traffic (UTC) and day-of-week (Mon..Sun) factors */
static const double hour_w[24] = {
	0.35, 0.25, 0.20, 0.18, 0.20, 0.30, 0.50, 0.80, 1.00, 1.10, 1.15, 1.20,
	1.30, 1.25, 1.20, 1.20, 1.25, 1.35, 1.50, 1.60, 1.55, 1.30, 0.90, 0.60
};
static const double dow_w[7] = {0.95, 0.95, 0.97, 1.00, 1.08, 1.12, 0.98};

typedef struct
{
	int			id;
	int			currency;
	const char *country;
	int			country_idx;
	int			multi_currency;	/* prices in the shopper's currency */
	int			category;
	unsigned	methods;		/* bit per enabled method (card always) */
	unsigned	channels;		/* bit per channel it sells on */
	double		log_median;		/* log of median amount in cents */
	double		p3ds;			/* share of card web/app payments with 3DS */
} Merchant;

static Merchant merchants[N_MERCHANTS];	/* by popularity rank */
static double merchant_cum[N_MERCHANTS];
static int country_issuers[N_COUNTRIES][MAX_LOCAL_ISSUERS];
static int country_issuer_n[N_COUNTRIES];
static int global_issuers[N_GLOBAL_ISSUERS];
static double local_issuer_cum[MAX_LOCAL_ISSUERS + 1][MAX_LOCAL_ISSUERS];
static double global_issuer_cum[N_GLOBAL_ISSUERS];
static Dist d_channel, d_method[N_CHANNELS], d_status[N_METHODS], d_currency,
			d_country, d_eur_country;

static double
zipf_fill(double *cum, int n, double s)
{
	double		tot = 0;

	for (int i = 0; i < n; i++)
	{
		tot += 1.0 / pow(i + 1, s);
		cum[i] = tot;
	}
	for (int i = 0; i < n; i++)
		cum[i] /= tot;
	cum[n - 1] = 1.0;
	return tot;
}

static int
zipf_pick(const double *cum, int n)
{
	double		u = rnd();
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (u < cum[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int
issuer_index(const char *name)
{
	for (int i = 0; i < N_ISSUERS; i++)
		if (strcmp(issuer_names[i], name) == 0)
			return i;
	fprintf(stderr, "gen_events: unknown issuer %s\n", name);
	exit(2);
}

static int
country_index(const char *name)
{
	for (int i = 0; i < N_COUNTRIES; i++)
		if (strcmp(country_names[i], name) == 0)
			return i;
	fprintf(stderr, "gen_events: unknown country %s\n", name);
	exit(2);
}

static void
setup(uint64_t seed)
{
	/* merchants come from their own stream so -n does not change them */
	rng_seed(seed ^ 0x6d65726368616e74ULL);

	dist_init(&d_channel, N_CHANNELS, channel_names, channel_w);
	for (int c = 0; c < N_CHANNELS; c++)
		dist_init(&d_method[c], N_METHODS, method_names, method_w[c]);
	for (int m = 0; m < N_METHODS; m++)
		dist_init(&d_status[m], N_STATUS, status_names, status_w[m]);
	dist_init(&d_currency, N_CURRENCIES, currency_names, currency_w);
	dist_init(&d_country, N_COUNTRIES, country_names, country_w);
	dist_init(&d_eur_country, 8, eur_countries, eur_country_w);

	{
		double		head = 0,
					tail = 0,
					c = 0;

		for (int r = 0; r < N_MERCHANTS; r++)
		{
			head += 1.0 / pow(r + 1, ZIPF_MERCHANT_HEAD);
			tail += 1.0 / pow(r + 1, ZIPF_MERCHANT_TAIL);
		}
		for (int r = 0; r < N_MERCHANTS; r++)
		{
			c += MERCHANT_HEAD_SHARE / pow(r + 1, ZIPF_MERCHANT_HEAD) / head +
				(1 - MERCHANT_HEAD_SHARE) / pow(r + 1, ZIPF_MERCHANT_TAIL) / tail;
			merchant_cum[r] = c;
		}
		merchant_cum[N_MERCHANTS - 1] = 1.0;
	}
	for (int k = 1; k <= MAX_LOCAL_ISSUERS; k++)
		zipf_fill(local_issuer_cum[k], k, ZIPF_LOCAL_ISSUER);
	zipf_fill(global_issuer_cum, N_GLOBAL_ISSUERS, ZIPF_GLOBAL_ISSUER);
	for (int c = 0; c < N_COUNTRIES; c++)
	{
		country_issuer_n[c] = 0;
		for (int k = 0; k < MAX_LOCAL_ISSUERS && country_issuer_names[c][k]; k++)
			country_issuers[c][country_issuer_n[c]++] = issuer_index(country_issuer_names[c][k]);
	}
	for (int k = 0; k < N_GLOBAL_ISSUERS; k++)
		global_issuers[k] = issuer_index(global_issuer_names[k]);

	for (int r = 0; r < N_MERCHANTS; r++)
	{
		Merchant   *m = &merchants[r];
		/* the big merchants accept everything; the long tail only some */
		double		breadth = r < 50 ? 1.0 : r < 1000 ? 0.9 : 0.78;
		double		u;

		/* ids are not in popularity order: scatter ranks over 10001..30000 */
		m->id = 10001 + (int) (((int64_t) r * 7919) % N_MERCHANTS);
		m->currency = dist_pick(&d_currency);
		m->country = m->currency == 0 ? d_eur_country.names[dist_pick(&d_eur_country)]
			: currency_country[m->currency];
		m->country_idx = country_index(m->country);
		m->multi_currency = r < N_MULTI_CURRENCY;
		m->category = (int) (rnd() * N_CATEGORIES);

		m->methods = 1u << M_CARD;
		for (int k = 1; k < N_METHODS; k++)
		{
			double		p = breadth;

			/* local methods: iDEAL is Dutch, SEPA is for euro merchants */
			if (k == M_IDEAL && strcmp(m->country, "NL") != 0)
				p = r < 50 ? 0.9 : 0.1;
			if (k == M_SEPA && m->currency != 0)
				p = r < 50 ? 0.8 : 0.05;
			if (rnd() < p)
				m->methods |= 1u << k;
		}

		u = rnd();
		if (r < 50)
			m->channels = 0xF;	/* omnichannel */
		else if (u < 0.55)
			m->channels = (1u << C_WEB) | (1u << C_APP);	/* online */
		else if (u < 0.75)
			m->channels = (1u << C_WEB);	/* web shop */
		else if (u < 0.92)
			m->channels = (1u << C_POS) | (1u << C_WEB);	/* shop + web */
		else
			m->channels = (1u << C_POS) | (1u << C_MOTO);	/* store, phone */

		/* median ticket 8 .. 200 EUR depending on the business */
		m->log_median = log(800.0) + rnd() * (log(20000.0) - log(800.0));
		m->p3ds = 0.55 + 0.4 * rnd();
	}
}

/* ----------------------------------------------------------- output --- */

static char outbuf[1 << 20];
static size_t outlen;

static inline void
flush_out(void)
{
	if (outlen && fwrite(outbuf, 1, outlen, stdout) != outlen)
	{
		perror("gen_events: write");
		exit(1);
	}
	outlen = 0;
}

static inline void
put_str(const char *s)
{
	size_t		l = strlen(s);

	memcpy(outbuf + outlen, s, l);
	outlen += l;
}

static inline void
put_char(char c)
{
	outbuf[outlen++] = c;
}

static inline void
put_int(int64_t v)
{
	char		tmp[24];
	int			n = 0;
	uint64_t	u;

	if (v < 0)
	{
		put_char('-');
		u = (uint64_t) (-(v + 1)) + 1;
	}
	else
		u = (uint64_t) v;
	do
	{
		tmp[n++] = (char) ('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		outbuf[outlen++] = tmp[--n];
}

static inline void
put_digits(int v, int width)
{
	for (int i = width - 1; i >= 0; i--)
	{
		outbuf[outlen + i] = (char) ('0' + v % 10);
		v /= 10;
	}
	outlen += width;
}

/* days since 1970-01-01 -> y/m/d (Howard Hinnant's civil_from_days) */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

/* milliseconds since 1970 -> "YYYY-MM-DD HH:MM:SS.mmm+00" */
static void
put_ts(int64_t ms)
{
	int64_t		secs = ms / 1000;
	int64_t		days = secs / 86400;
	int			sod = (int) (secs % 86400);
	int			y,
				mo,
				d;

	civil_from_days(days, &y, &mo, &d);
	put_digits(y, 4);
	put_char('-');
	put_digits(mo, 2);
	put_char('-');
	put_digits(d, 2);
	put_char(' ');
	put_digits(sod / 3600, 2);
	put_char(':');
	put_digits(sod / 60 % 60, 2);
	put_char(':');
	put_digits(sod % 60, 2);
	put_char('.');
	put_digits((int) (ms % 1000), 3);
	put_str("+00");
}

/* 'evt_' + 13 base-36 digits of a bijection of the counter: unique per row */
static void
put_event_id(uint64_t seed, uint64_t i)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t	v = mix64(i ^ mix64(seed + 0x65766e74ULL));

	put_str("evt_");
	for (int k = 12; k >= 0; k--)
	{
		outbuf[outlen + k] = digits[v % 36];
		v /= 36;
	}
	outlen += 13;
}

static void
print_merchants(void)
{
	for (int r = 0; r < N_MERCHANTS; r++)
	{
		const Merchant *m = &merchants[r];
		/* older merchants tend to be bigger */
		int			created = 15000 + (int) ((double) (r + 1) / N_MERCHANTS * 5000.0 * rnd())
			+ (int) (r * 0.2);
		int			y,
					mo,
					d;

		put_int(m->id);
		put_char('\t');
		put_str("merchant_");
		put_int(m->id);
		put_char('\t');
		put_str(m->country);
		put_char('\t');
		put_str(currency_names[m->currency]);
		put_char('\t');
		put_str(category_names[m->category]);
		put_char('\t');
		civil_from_days(created, &y, &mo, &d);
		put_digits(y, 4);
		put_char('-');
		put_digits(mo, 2);
		put_char('-');
		put_digits(d, 2);
		put_char('\n');
		if (outlen > sizeof(outbuf) - 4096)
			flush_out();
	}
	flush_out();
}

/* ------------------------------------------------------------- main --- */

int
main(int argc, char **argv)
{
	int64_t		n = 10000000;
	uint64_t	seed = 42;
	int			merchants_only = 0;
	double		cum_hour[N_HOURS + 1];
	double		w_hour[N_HOURS];
	int			h = 0;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = strtoll(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-M") == 0)
			merchants_only = 1;
		else
		{
			fprintf(stderr, "usage: %s [-n rows] [-s seed] [-M]\n", argv[0]);
			return 2;
		}
	}
	if (n < 0)
	{
		fprintf(stderr, "gen_events: -n must be >= 0\n");
		return 2;
	}

	setup(seed);
	if (merchants_only)
	{
		print_merchants();
		return 0;
	}

	/* traffic curve: hour of day x day of week x slow growth over the month */
	cum_hour[0] = 0;
	for (int k = 0; k < N_HOURS; k++)
	{
		int			day = k / 24;
		int			dow = (3 + day) % 7;	/* 2026-10-01 is a Thursday */

		w_hour[k] = hour_w[k % 24] * dow_w[dow] * (1.0 + 0.05 * day / N_DAYS);
		cum_hour[k + 1] = cum_hour[k] + w_hour[k];
	}

	rng_seed(seed);
	for (int64_t i = 0; i < n; i++)
	{
		/* arrival time: evenly along the traffic curve, plus jitter */
		double		u = ((double) i + 0.5) / (double) n * cum_hour[N_HOURS];
		int64_t		t_ms;
		double		j;
		const Merchant *m;
		int			channel,
					method,
					status,
					currency,
					risk,
					cc,
					issuer;
		const char *country;
		const char *device;
		int64_t		amount,
					fee,
					absamt;
		int			version;

		while (h < N_HOURS - 1 && u >= cum_hour[h + 1])
			h++;
		t_ms = (int64_t) h * 3600000 +
			(int64_t) ((u - cum_hour[h]) / w_hour[h] * 3600000.0);
		j = (rnd() + rnd() - 1.0) * 4000.0;	/* +-4 s, triangular */
		if (rnd() < 0.002)
			j += rnd() * 120000.0;	/* a few arrive up to 2 min late */
		t_ms += (int64_t) j;
		/* reflect at the ends of the 30 days: no pile-up at the edges */
		if (t_ms < 0)
			t_ms = -t_ms;
		if (t_ms >= (int64_t) N_HOURS * 3600000)
			t_ms = 2 * (int64_t) N_HOURS * 3600000 - 1 - t_ms;
		t_ms += T0_EPOCH * 1000;

		m = &merchants[zipf_pick(merchant_cum, N_MERCHANTS)];

		channel = dist_pick(&d_channel);
		if (!(m->channels & (1u << channel)))
		{
			/* the merchant's own first channel */
			channel = 0;
			while (!(m->channels & (1u << channel)))
				channel++;
		}
		/* a method the merchant accepts on this channel */
		for (int k = 0;; k++)
		{
			method = dist_pick(&d_method[channel]);
			if (m->methods & (1u << method))
				break;
			if (k == 8)
			{
				method = M_CARD;
				break;
			}
		}
		status = dist_pick(&d_status[method]);

		/*
		 * cardholder: mostly from the merchant's country; the card's issuer
		 * is a bank of that country or a pan-European / global one
		 */
		cc = rnd() < HOME_SHOPPER ? m->country_idx : dist_pick(&d_country);
		country = country_names[cc];
		issuer = -1;
		if (method_is_card[method])
		{
			if (rnd() < LOCAL_ISSUER && country_issuer_n[cc] > 0)
				issuer = country_issuers[cc][zipf_pick(local_issuer_cum[country_issuer_n[cc]], country_issuer_n[cc])];
			else
				issuer = global_issuers[zipf_pick(global_issuer_cum, N_GLOBAL_ISSUERS)];
		}

		/*
		 * currency: the merchant's; the biggest merchants price in the
		 * shopper's currency; iDEAL and SEPA are euro only
		 */
		if (method == M_IDEAL || method == M_SEPA)
			currency = 0;
		else if (m->multi_currency)
			currency = country_currency[cc];
		else
			currency = m->currency;

		switch (channel)
		{
			case C_WEB:
				device = rnd() < 0.55 ? "desktop" : "mobile_web";
				break;
			case C_APP:
				device = rnd() < 0.55 ? "ios" : "android";
				break;
			case C_POS:
				device = "terminal";
				break;
			default:
				device = "phone";
				break;
		}
		risk = (int) (-log(1.0 - rnd()) * (status == S_DECLINED ? 35.0 : 12.0));
		if (risk > 99)
			risk = 99;

		/* amount: log-normal around the merchant's median ticket */
		absamt = (int64_t) exp(m->log_median + 0.9 * rnd_normal());
		if (absamt < 100)
			absamt = 100;
		if (absamt > 500000)
			absamt = 500000;
		if (rnd() < 0.25)
			absamt = (absamt + 50) / 100 * 100;	/* round prices */

		switch (method)
		{
			case M_CARD:
			case M_APPLE_PAY:
			case M_GOOGLE_PAY:
				fee = (absamt * 14 + 500) / 1000 + 25;	/* 1.4% + 0.25 */
				if (currency != 0)
					fee += (absamt * 10 + 500) / 1000;	/* +1% FX */
				break;
			case M_PAYPAL:
				fee = (absamt * 249 + 5000) / 10000 + 35;
				break;
			case M_IDEAL:
				fee = 29;
				break;
			case M_SEPA:
				fee = (absamt * 35 + 5000) / 10000 + 20;
				break;
			default:
				fee = (absamt * 299 + 5000) / 10000 + 30;
				break;
		}
		amount = absamt;
		if (status == S_DECLINED)
			fee = 2;			/* authorisation only */
		else if (status == S_REFUNDED)
		{
			amount = -absamt;
			fee = 0;
		}
		else if (status == S_CHARGEBACK)
		{
			amount = -absamt;
			fee = 1500;
		}

		u = rnd();
		version = u < 0.96 ? 1 : u < 0.993 ? 2 : 3;

		/* ---- the line ---- */
		put_ts(t_ms);
		put_char('\t');
		put_int(m->id);
		put_char('\t');
		put_str(method_names[method]);
		put_char('\t');
		put_str(status_names[status]);
		put_char('\t');
		put_str(currency_names[currency]);
		put_char('\t');
		if (issuer >= 0)
			put_str(issuer_names[issuer]);
		else
			put_str("\\N");
		put_char('\t');
		put_str(channel_names[channel]);
		put_char('\t');
		put_str("{\"country\":\"");
		put_str(country);
		put_str("\",\"device\":\"");
		put_str(device);
		put_str("\",\"risk\":");
		put_int(risk);
		if (method_is_card[method] && (channel == C_WEB || channel == C_APP))
			put_str(rnd() < m->p3ds ? ",\"3ds\":true" : ",\"3ds\":false");
		put_str("}\t");
		put_int(amount);
		put_char('\t');
		put_int(fee);
		put_char('\t');
		put_event_id(seed, (uint64_t) i);
		put_char('\t');
		put_int(version);
		put_char('\n');

		if (outlen > sizeof(outbuf) - 4096)
			flush_out();
	}
	flush_out();
	return 0;
}
