"""The built-in classifier's word lists, Indonesian and English, in their normalised forms.

Words are matched after normalisation (:mod:`govsocial.listening.normalise`): lower case,
slang replaced (``gak`` is ``enggak``, ``gmn`` is ``bagaimana``), repeated letters
squeezed. Phrases are tuples of such words. The lists are govsocial's own, written for
Indonesian public-service messages (a citizen to a government account); see
docs/listening.md for how they are used and measured.
"""

from __future__ import annotations

__all__ = [
    "EMERGENCY_STRONG",
    "EMERGENCY_HAZARD",
    "EMERGENCY_PHRASES",
    "URGENCY",
    "HABITUAL",
    "NEGATORS",
    "POSITIVE",
    "NEGATIVE",
]

# -- emergencies -----------------------------------------------------------------------------

#: Words that mean someone is in danger now, whatever else the message says.
EMERGENCY_STRONG: frozenset[str] = frozenset(
    {
        # Indonesian
        "kebakaran", "terbakar", "kebakar", "darurat", "tenggelam", "hanyut", "terseret",
        "terjebak", "tertimbun", "terkubur", "kecelakaan", "tabrakan", "ketabrak", "tertabrak",
        "pingsan", "sekarat", "berdarah", "meledak", "ledakan", "tsunami", "erupsi", "kesetrum",
        "tersengat", "ambruk", "runtuh", "roboh", "kebocoran", "tawuran", "penculikan",
        "diculik", "begal", "dibegal", "perampokan", "dirampok", "penusukan", "ditusuk",
        "bunuh", "kejang", "keracunan", "overdosis",
        # English
        "fire", "burning", "emergency", "sos", "drowning", "drowned", "trapped", "accident",
        "crash", "collapsed", "collapse", "explosion", "exploded", "ambulance", "injured",
        "unconscious", "bleeding", "earthquake", "quake", "eruption", "stabbed",
        "kidnapped", "robbery", "overdose", "seizure", "stranded", "terbalik", "karam",
        "capsized", "dievakuasi", "keseret", "ketimbun", "kejebak", "kelelep", "terperosok",
        "tersetrum",
    }
)  # fmt: skip

#: Hazards: an emergency now, unless the message speaks of them as a recurring problem
#: ("setiap hujan pasti banjir, kapan diperbaiki?"), a figure of speech ("banjir pujian")
#: or a claim going round that the writer asks about.
EMERGENCY_HAZARD: frozenset[str] = frozenset(
    {
        "banjir", "kebanjiran", "longsor", "gempa", "tumbang", "puting", "angin", "rob",
        "bencana", "meluap", "jebol", "damkar", "pemadam", "ambulans", "ambulan", "evakuasi",
        "mengungsi", "pengungsi", "landslide", "flood", "flooding", "flooded", "floods",
        "evacuate", "evacuation", "evacuating",
    }
)  # fmt: skip

#: Thanks and praise that make a hazard word part of a thank-you ("salut untuk damkar").
GRATITUDE: frozenset[str] = frozenset(
    {
        "terima",
        "makasih",
        "salut",
        "apresiasi",
        "bangga",
        "thanks",
        "thank",
        "kudos",
        "proud",
        "impressive",
        "appreciate",
        "hebat",
        "sigap",
        "gercep",
        "matur",
        "hatur",
        "grateful",
        "saved",
        "menyelamatkan",
    }
)

#: Phrases that are emergencies as a whole.
EMERGENCY_PHRASES: tuple[tuple[str, ...], ...] = (
    ("tolong", "tolong"),
    ("minta", "tolong"),
    ("butuh", "bantuan"),
    ("mohon", "bantuan", "segera"),
    ("tim", "sar"),
    ("gas", "bocor"),
    ("bocor", "gas"),
    ("tidak", "sadarkan", "diri"),
    ("sesak", "napas"),
    ("sesak", "nafas"),
    ("anak", "hilang"),
    ("orang", "hilang"),
    ("gas", "leak"),
    ("help", "me"),
    ("help", "us"),
    ("please", "help"),
    ("need", "help"),
    ("call", "911"),
    ("missing", "child"),
    ("not", "breathing"),
    ("heart", "attack"),
    ("angin", "puting", "beliung"),
    ("puting", "beliung"),
    ("pohon", "tumbang"),
    ("tanah", "longsor"),
    ("awan", "panas"),
    ("send", "help"),
    ("get", "help"),
    ("fell", "into"),
    ("fell", "from"),
    ("fell", "off"),
    ("cant", "get", "out"),
    ("jatuh", "ke"),
    ("jatuh", "dari"),
    ("tidak", "bisa", "keluar"),
    ("enggak", "bisa", "keluar"),
)

#: A cry for help or a sign it is happening now: with a hazard (or ``tolong``/``help``)
#: it makes an emergency.
URGENCY: frozenset[str] = frozenset(
    {
        "tolong", "tolongin", "segera", "cepat", "cepetan", "buruan", "sekarang", "barusan",
        "baru", "saat", "sedang", "lagi", "darurat", "korban", "luka", "meninggal", "tewas",
        "terjebak", "sepinggang", "sedada", "seleher", "selutut", "sepaha", "atap", "naik",
        "masuk", "help", "now", "urgent", "asap", "api", "air", "mengungsi", "warga",
        "bantuan", "bantu", "please", "right", "happening", "currently", "hurt", "dead",
        "stuck", "rising", "water", "smoke", "flames", "sirine", "mohon", "plis", "pliss",
    }
)  # fmt: skip

#: The hazard is a recurring problem or in the past: a complaint, not an emergency.
HABITUAL: frozenset[str] = frozenset(
    {
        "setiap", "tiap", "selalu", "langganan", "tahunan", "sering", "musim", "kalau",
        "kalo", "pas", "kemarin", "tahun", "bulan", "minggu", "dulu", "pernah", "normalisasi",
        "drainase", "gorong", "selokan", "penanganan", "antisipasi", "solusi", "every",
        "always", "whenever", "again", "last", "yesterday", "drainage", "prevention",
        "mitigasi", "pencegahan", "tanggul", "sungai", "kapan", "diperbaiki", "ditangani",
    }
)  # fmt: skip

#: Words after ``banjir`` that make it a figure of speech ("banjir pujian").
FIGURATIVE: frozenset[str] = frozenset(
    {"pujian", "diskon", "promo", "hadiah", "komentar", "like", "order", "orderan", "pesanan",
     "apresiasi", "dukungan", "ucapan", "penonton", "pengunjung", "job", "rezeki", "rejeki"}
)  # fmt: skip

#: Words a fuzzy match must never turn into an emergency word (they are near one).
NOT_EMERGENCY: frozenset[str] = frozenset(
    {"banjar", "gempar", "floor", "blood", "fired", "firm", "crush", "krash", "hanyu",
     "kebanyakan", "bakar", "terbakarnya"}
)  # fmt: skip

# -- hoaxes ----------------------------------------------------------------------------------

#: Words that report or ask about a false claim.
HOAX: frozenset[str] = frozenset(
    {
        "hoaks", "hoax", "hoaxs", "hoak", "hoks", "hox", "bohong", "palsu", "penipuan",
        "penipu", "menipu", "modus", "disinformasi", "misinformasi", "fitnah", "provokasi",
        "provokatif", "klarifikasi", "fake", "scam", "scammer", "phishing", "rumor",
        "rumour", "misinformation", "disinformation", "fabricated", "debunk", "hoaxes",
        "mengatasnamakan", "catut", "mencatut", "dicatut", "editan", "rekayasa", "settingan",
        "diluruskan", "luruskan",
    }
)  # fmt: skip

#: A claim going round (with a question, a hoax report).
CIRCULATING: frozenset[str] = frozenset(
    {
        "beredar", "viral", "broadcast", "berantai", "katanya", "kabarnya", "dengar",
        "denger", "isu", "isunya", "grup", "group", "wag", "whatsapp", "forward", "forwarded",
        "disebarkan", "tersebar", "menyebar", "share", "shared", "circulating", "going",
        "claims", "claim", "klaim", "pesan", "chain", "tiktok", "benarkah", "beneran",
        "bener", "benar", "true", "real", "legit", "resmi", "official", "link", "tautan",
        "undian", "hadiah", "transfer", "sms", "nomor", "akun", "asli", "ramai", "facebook",
        "instagram", "twitter", "rumornya", "footage",
    }
)  # fmt: skip

#: "Is it true?" without a question mark ("bener gk tuh").
CHECKING: tuple[tuple[str, ...], ...] = (
    ("benar", "enggak"),
    ("benar", "tidak"),
    ("benar", "bukan"),
    ("benar", "kah"),
    ("apa", "benar"),
    ("is", "it", "true"),
    ("is", "this", "real"),
)

# -- questions -------------------------------------------------------------------------------

#: Words that ask, wherever they stand.
QUESTION_WORDS: frozenset[str] = frozenset(
    {
        "apakah", "bagaimana", "kapan", "dimana", "berapa", "siapa", "mengapa", "kenapa",
        "bisakah", "bolehkah", "gimana", "tanya", "bertanya", "syarat", "persyaratan",
        "caranya", "prosedur", "what", "when", "where", "how", "why", "which", "whether",
        "requirements",
    }
)  # fmt: skip

#: Words that ask only in a message with a question mark ("ada", "sudah", "ya").
WEAK_QUESTION_WORDS: frozenset[str] = frozenset(
    {
        "apa", "mana", "info", "informasi", "cara", "jadwal", "alur", "kah", "can", "could",
        "does", "do", "is", "are", "will", "anyone", "information", "schedule", "deadline",
        "bisa", "boleh", "ada", "link", "dibuka", "buka", "tutup", "perlu", "harus", "wajib",
        "masih", "sudah", "ya", "kok", "who",
    }
)  # fmt: skip

#: Questions that are complaints when something is wrong ("kenapa ... tidak pernah ...").
RHETORICAL: frozenset[str] = frozenset({"kenapa", "mengapa", "kok", "kapan", "why", "when"})

#: Greetings and wishes: chatter, not a request.
GREETINGS: tuple[tuple[str, ...], ...] = (
    ("selamat", "hari"),
    ("selamat", "pagi"),
    ("selamat", "siang"),
    ("selamat", "sore"),
    ("selamat", "malam"),
    ("selamat", "menunaikan"),
    ("selamat", "tahun"),
    ("dirgahayu",),
    ("happy",),
    ("merry",),
    ("good", "morning"),
    ("good", "night"),
    ("greetings",),
    ("salam", "kenal"),
    ("turut", "berduka"),
)

#: Words that make the word beside them count double ("jelek banget", "very helpful").
INTENSIFIERS: frozenset[str] = frozenset(
    {"banget", "sekali", "sangat", "amat", "very", "so", "really", "super", "terlalu", "too"}
)

#: Sarcasm emoji: with praise words, the praise is a complaint.
SARCASM_EMOJI: frozenset[str] = frozenset({"🙄", "🤡", "🙃", "😒", "😤", "🤦"})

#: Openers that make a message a request for information.
QUESTION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("mau", "tanya"),
    ("ingin", "bertanya"),
    ("mohon", "info"),
    ("minta", "info"),
    ("mohon", "informasi"),
    ("numpang", "tanya"),
    ("izin", "bertanya"),
    ("izin", "tanya"),
    ("is", "there"),
    ("are", "there"),
    ("do", "i"),
    ("do", "you"),
    ("can", "i"),
    ("can", "you"),
    ("could", "you"),
    ("would", "you"),
    ("how", "to"),
    ("how", "do"),
    ("how", "long"),
    ("how", "much"),
    ("where", "can"),
    ("what", "are"),
    ("what", "is"),
    ("any", "update"),
    ("apakah", "bisa"),
    ("bisa", "enggak"),
    ("bisa", "tidak"),
    ("gimana", "caranya"),
    ("bagaimana", "caranya"),
    ("bagaimana", "cara"),
)

# -- complaints and praise -------------------------------------------------------------------

#: Words that say something is wrong (negative sentiment, and a complaint).
NEGATIVE: frozenset[str] = frozenset(
    {
        # Indonesian
        "jelek", "buruk", "lambat", "lemot", "lelet", "rusak", "kecewa", "mengecewakan",
        "parah", "kotor", "macet", "mahal", "ribet", "susah", "sulit", "bohong", "payah",
        "kesal", "kesel", "capek", "capai", "marah", "berlubang", "bolong", "pungli",
        "korupsi", "terlantar", "diabaikan", "dicuekin", "dicuekkin", "cuek", "ditolak",
        "molor", "telat", "terlambat", "lama", "bau", "menumpuk", "numpuk", "mati", "padam",
        "error", "eror", "gagal", "down", "hilang", "keluhan", "mengeluh", "komplain",
        "complain", "protes", "zonk", "amburadul", "semrawut", "kumuh", "bising",
        "berisik", "liar", "ilegal", "pungutan", "calo", "sogok", "suap", "nyebelin",
        "menyebalkan", "jutek", "judes", "kasar", "sombong", "lalai", "percuma", "sia",
        "antre", "antri", "ngantri", "ngantre", "berjam", "berbulan",
        "bertahun", "berhari", "mangkrak", "becek", "licin", "gelap", "sampah", "limbah",
        "polusi", "debu", "genangan", "tergenang", "curang", "dipersulit", "bertele",
        "lemah", "kacau", "berantakan", "ngadat", "macat", "lubang", "putus",
        "bocor", "keruh", "pengap", "panas", "sesak", "nyesel", "menyesal",
        "miris", "prihatin", "malu", "memalukan", "tega", "zalim", "tipu", "ditipu",
        "mengganggu", "ganggu", "rawan", "jorok", "kosong", "melebihi", "membiarkan",
        "dibiarkan", "hancur", "rejecting", "rejected", "noise", "noisy", "filthy", "worse",
        "without", "mulu", "terbengkalai", "dikembalikan", "sembarangan",
        # English
        "slow", "bad", "terrible", "awful", "broken", "disappointed", "disappointing",
        "useless", "rude", "late", "dirty", "worst", "horrible", "waste", "ignored",
        "unacceptable", "poor", "failed", "fail", "fails", "crashes", "crashing", "problem",
        "problems", "issue", "issues", "complaint", "frustrating", "frustrated",
        "annoying", "angry", "outage", "leaking", "potholes", "pothole", "garbage",
        "trash", "smell", "stinks", "stuck", "delayed", "delay", "hours", "weeks", "months",
        "nobody", "never", "still", "corrupt", "bribe", "overpriced", "expensive", "mess",
        "incompetent", "lazy", "ridiculous", "shame", "pathetic", "confusing", "unclear",
        "wrong", "errors", "lost", "unanswered", "unresponsive",
    }
)  # fmt: skip

#: Words that are weak on their own: they count only with other complaint evidence.
WEAK_NEGATIVE: frozenset[str] = frozenset(
    {"lama", "antre", "antri", "still", "never", "hours",
     "weeks", "months", "nobody", "down", "hilang", "lost", "panas", "gelap", "sampah",
     "trash", "garbage", "mati", "padam", "sesak", "delay", "issue", "issues", "problem",
     "kosong", "without", "mulu", "rawan"}
)  # fmt: skip

#: Words that say something is good or thank someone (positive sentiment, and praise).
POSITIVE: frozenset[str] = frozenset(
    {
        # Indonesian
        "bagus", "baik", "mantap", "mantab", "mantul", "keren", "terima", "kasih", "makasih",
        "cepat", "ramah", "membantu", "puas", "hebat", "sukses", "bangga", "salut",
        "apresiasi", "top", "juara", "responsif", "jelas", "rapi", "bersih", "nyaman",
        "mudah", "lancar", "gercep", "sigap", "tanggap", "amanah", "luar", "biasa", "josss",
        "jos", "oke", "sip", "semangat", "berkah", "alhamdulillah", "senang", "seneng",
        "suka", "cinta", "terbaik", "memuaskan", "profesional", "inovatif", "informatif",
        "bermanfaat", "aman", "indah", "asri", "trims", "thanks", "thank", "thx", "tq",
        "makasi", "makasii", "matur", "nuwun", "hatur", "nuhun", "apik", "ok", "okay",
        "good", "great", "helpful", "fast", "quick", "appreciate", "appreciated", "love",
        "excellent", "awesome", "amazing", "nice", "well", "done", "proud", "kudos",
        "bravo", "clean", "friendly", "efficient", "smooth", "impressive", "best", "wonderful",
        "brilliant", "perfect", "grateful", "easy", "clear", "useful", "happy", "glad",
        "salute", "respect", "solid", "cool", "peduli", "care", "cares", "memudahkan",
        "fantastic", "berfungsi",
    }
)  # fmt: skip

#: Words that are positive but too common to mean praise on their own ("terima" alone).
WEAK_POSITIVE: frozenset[str] = frozenset(
    {"baik", "terima", "cepat", "jelas", "mudah", "aman", "ok", "oke", "okay", "well",
     "done", "fast", "quick", "clear", "easy", "luar", "biasa", "semangat", "good", "nice",
     "best", "berkah", "alhamdulillah", "suka", "bersih", "clean", "lancar"}
)  # fmt: skip

#: Thanks: praise on its own, politeness beside a question or a complaint.
THANKS: tuple[tuple[str, ...], ...] = (
    ("terima", "kasih"),
    ("makasih",),
    ("makasi",),
    ("trims",),
    ("thanks",),
    ("thank", "you"),
    ("thx",),
    ("tq",),
    ("matur", "nuwun"),
    ("hatur", "nuhun"),
)

#: Phrases that are complaints as a whole.
COMPLAINT_PHRASES: tuple[tuple[str, ...], ...] = (
    ("tidak", "pernah"),
    ("belum", "juga"),
    ("belum", "ada"),
    ("tidak", "ada", "respon"),
    ("tidak", "ada", "respons"),
    ("tidak", "ada", "tanggapan"),
    ("tidak", "dibalas"),
    ("belum", "dibalas"),
    ("tidak", "diangkat"),
    ("tidak", "bisa"),
    ("enggak", "bisa"),
    ("tidak", "jalan"),
    ("mohon", "ditindak"),
    ("mohon", "ditindaklanjuti"),
    ("tolong", "diperbaiki"),
    ("mohon", "diperbaiki"),
    ("tolong", "ditindak"),
    ("tolong", "dibersihkan"),
    ("mohon", "perhatian"),
    ("minta", "tanggung", "jawab"),
    ("kapan", "diperbaiki"),
    ("kapan", "dibenerin"),
    ("kapan", "ditangani"),
    ("sudah", "lapor"),
    ("udah", "lapor"),
    ("sudah", "lama"),
    ("still", "not"),
    ("still", "no"),
    ("no", "one"),
    ("no", "response"),
    ("no", "reply"),
    ("not", "working"),
    ("does", "not", "work"),
    ("do", "not", "work"),
    ("never", "fixed"),
    ("waiting", "for"),
    ("been", "waiting"),
    ("please", "fix"),
    ("fix", "this"),
    ("mana", "janji"),
    ("cuma", "janji"),
    ("hanya", "janji"),
    ("omong", "kosong"),
    ("pencitraan",),
    ("gaji", "buta"),
)

#: Negators: they turn the next words (up to three, not past a comma or ``tapi``) around.
NEGATORS: frozenset[str] = frozenset(
    {"tidak", "enggak", "bukan", "belum", "tak", "kurang", "tanpa", "not", "no", "never",
     "isnt", "arent", "wasnt", "werent", "dont", "doesnt", "didnt", "cant", "cannot",
     "wont", "hardly", "nothing", "jangan", "ndak", "nda", "nggak"}
)  # fmt: skip

#: Words that end a negation's reach.
CLAUSE_BREAKS: frozenset[str] = frozenset(
    {"tapi", "tetapi", "namun", "but", "however", "dan", "and", "sedangkan", "padahal",
     "karena", "because", "jadi", "so"}
)  # fmt: skip

#: Markers of sarcasm: with praise words and something wrong, the praise is a complaint.
SARCASM: frozenset[str] = frozenset(
    {"wkwk", "wkwkwk", "haha", "hahaha", "lol", "sih", "banget", "sekali", "bener",
     "🙄", "🤡", "😒", "🙃", "😏", "👏", "🤣", "😂", "😅", "yeah", "sure", "right", "great",
     "wow", "kok", "masa", "hadeh", "hadeuh", "duh", "ampun"}
)  # fmt: skip

#: Things that are not for the agency to answer: promotion, gambling, follow-for-follow.
SPAM: frozenset[str] = frozenset(
    {"slot", "gacor", "judi", "togel", "jp", "maxwin", "promo", "diskon", "followback",
     "follow", "followers",
     "follback", "folback", "endorse", "dm", "cek", "bio", "pinjol", "jual", "dijual",
     "murah", "giveaway", "crypto", "bitcoin", "forex", "investasi", "cuan", "wa", "wd"}
)  # fmt: skip

# -- language --------------------------------------------------------------------------------

#: Common Indonesian words (and normalised slang): what makes a text Indonesian.
INDONESIAN: frozenset[str] = frozenset(
    {
        "yang", "dan", "di", "ke", "dari", "ini", "itu", "untuk", "dengan", "tidak", "ada",
        "saya", "kami", "kita", "anda", "aku", "kamu", "dia", "mereka", "sudah", "belum",
        "akan", "bisa", "juga", "atau", "karena", "kalau", "pada", "dalam", "sama", "lagi",
        "apa", "apakah", "bagaimana", "kapan", "dimana", "berapa", "siapa", "kenapa",
        "mengapa", "ya", "enggak", "tapi", "jadi", "banget", "sangat", "mohon", "tolong",
        "terima", "kasih", "min", "admin", "pak", "bu", "bapak", "ibu", "kak", "mas", "mbak",
        "dong", "deh", "sih", "nih", "kok", "loh", "lho", "kah", "pun", "masih", "harus",
        "sampai", "setelah", "sebelum", "oleh", "bukan", "tak", "saja", "hanya", "mau",
        "ingin", "sekarang", "kemarin", "besok", "hari", "jalan", "rumah", "warga", "kantor",
        "gue", "gw", "lu", "lo", "kalo", "gimana", "udah", "aja", "gak", "ga", "nggak",
        "gitu", "begitu", "yg", "dgn", "utk", "tdk", "sdh", "blm", "jg", "dr", "krn", "kpn",
        "gmn", "knp", "bgt", "tp", "sy", "aq", "trs", "terus", "baru", "lama", "segera",
        "wah", "nya", "dulu", "semua", "banyak", "sekali", "tentang", "seperti", "mana",
        "sini", "situ", "sana", "punya", "buat", "bikin", "kena", "lewat", "soal",
    }
)  # fmt: skip

#: Common English words: what makes a text English.
ENGLISH: frozenset[str] = frozenset(
    {
        "the", "a", "an", "is", "are", "was", "were", "be", "been", "to", "of", "in", "on",
        "at", "for", "with", "and", "or", "but", "not", "no", "yes", "do", "does", "did",
        "can", "could", "will", "would", "should", "i", "you", "he", "she", "it", "we",
        "they", "me", "my", "your", "our", "their", "this", "that", "there", "here", "what",
        "when", "where", "why", "how", "who", "which", "please", "thanks", "thank", "still",
        "never", "very", "too", "just", "now", "today", "again", "has", "have", "had", "from",
        "about", "any", "anyone", "some", "if", "so", "because", "since", "after", "before",
        "into", "out", "up", "down", "over", "its", "it's", "im", "i'm", "dont", "don't",
        "doesnt", "isnt", "cant", "can't", "won't", "wont", "didnt", "am", "get", "got",
        "need", "help", "know", "want", "someone", "nobody", "everyone", "people", "office",
        "road", "street", "water", "power", "service", "services", "app", "website", "month",
        "week", "day", "days", "hours", "being", "guys", "team", "yet", "also",
        "past", "even", "look", "every", "time", "all", "thx", "pls", "plz", "lol",
        "greetings",
    }
)  # fmt: skip
