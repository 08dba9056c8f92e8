#!/usr/bin/env python3
"""A deterministic synchronous English -> German grammar (text only).

This is the text side of the embedded speech-translation corpus (English speech ->
German text), the offline stand-in for CoVoST 2 En->De. Every sentence is built once
as a small syntax structure and realised twice, once by English and once by German
word order and morphology, so the German reference is the one canonical translation
of the English source (no word-for-word mapping).

What it produces
----------------

:func:`build_splits` returns ``{"train", "dev", "test", "test_compositional"}`` lists
of :class:`Pair` (``en``, ``de``, ``construction``, ``combo``), fully determined by the
seed and the sizes. The English side is ordinary written English, cased and
punctuated, with every number spelled out (it is read aloud by espeak-ng); the German
side is cased (nouns capitalised), punctuated (comma before every subordinate clause)
and spells numbers the way ``num2words`` writes them (lower case).

German phenomena covered: verb-second main clauses, also after a fronted time phrase
("Morgen kauft der Lehrer ein Buch."); verb-final subordinate clauses with dass / weil
/ wenn / obwohl, before or after the main clause (inversion after a fronted
subordinate clause); separable verbs (ruft ... an / anruft / angerufen); the perfect
with haben or sein and the participle at the end (English simple past and present
perfect are both rendered by the German Perfekt, the past of "be" by "war"); strong,
weak and mixed adjective declension; n-declension nouns (den Jungen); dative plural
-n; nicht placement and kein for indefinite and bare objects; genitive
(das Auto des Lehrers, -s / -es, der Lehrer for plurals, prenominal Annas Auto for
names); prepositions with case (mit + dat, für / ohne + acc, in / an / auf + dat for
location and + acc for direction, zu + dat, nach with towns, contractions im / ins /
am / zum / zur / vom); dative and double objects (gibt dem Kind einen Ball);
prepositional objects (wartet auf den Bus); cardinal numbers, dates
("am einundzwanzigsten März"), clock times ("um halb vier", "um Viertel vor fünf",
"um ein Uhr"), ages; yes/no and wh-questions.

Conventions: English numbers are num2words' British form ("twenty-one",
"one hundred and five"); "you" and "it" are never used (ambiguous in German); person
nouns take the German generic masculine ("the teacher" -> "der Lehrer"); possession is
always the genitive, never "von" ("the car of the teachers" -> "das Auto der Lehrer",
"Anna's car" -> "Annas Auto"); a plural possessor is written "the car of the teachers"
in English ("the teachers' car" sounds like "the teacher's car"); verbs whose past is
their base form ("read", "put") take no simple past with I / we / they (the present
perfect is used instead), so no English sentence has two German readings.

``construction`` names the phenomenon a pair was generated for (see CONSTRUCTIONS):
main_present, main_perfect, v2_adverbial, negation, subord_present, subord_perfect,
subord_first, separable, ditransitive, dative_verb, preposition, adjective, genitive,
number, date, clock, predicative, age, question.

Splits
------

* ``train``: pairs without any held-out combination;
* ``dev`` / ``test``: the same distribution, English sources not in train;
* ``test_compositional``: pairs all of whose combination keys are held out.

A pair's ``combo`` lists its combination keys: ``"<clause type>+<verb>"`` for the
content verb, where the clause type is main / v2 / subord / subfirst / question with
_present or _past (German present, or Perfekt / Präteritum), e.g.
``"subord_present+call"``, and ``"<adjective>+<noun>"`` for every attributive
adjective, e.g. ``"old+car"``. Held out, per seed and by a seeded hash of the key, are
about 12 % of the clause-type + verb keys (never those of the copula "be") and 15 % of
the adjective + noun keys. Train, dev and test never contain a held-out key; every key
of a test_compositional pair is held out, so no key of that split occurs in train: e.g.
"call" (anrufen) is seen in main clauses and in the perfect but never in a present
subordinate clause ("..., dass sie ihren Bruder anruft"), or "old" and "car" are seen
but never "old car". All English sources are pairwise distinct across splits, and
every lemma (noun, verb, adjective, adverb, name, place, time word, number, pronoun,
conjunction) of dev / test / test_compositional occurs in train: those splits are
generated from the lemmas of train only.

Example::

    python local/st_grammar.py --seed 0 --num_train 2000 --num_dev 100 \\
        --num_test 100 --num_test_compositional 100 --print 5
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from num2words import num2words

SPLITS: tuple[str, ...] = ("train", "dev", "test", "test_compositional")
HELDOUT_VERB_RATE = 0.12
HELDOUT_ADJ_RATE = 0.15
CLAUSE_TYPES: tuple[str, ...] = ("main", "v2", "subord", "subfirst", "question")
MAX_CONSECUTIVE_FAILURES = 20000


@dataclass(frozen=True)
class Pair:
    en: str  # English source, cased, punctuated
    de: str  # German reference, cased, punctuated
    construction: str  # e.g. "main_present", "subord_perfect", "separable", "clock"
    combo: tuple[str, ...]  # the held-out-able combination key(s) of this pair


# --------------------------------------------------------------------------------------
# Lexicon
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Noun:
    """A noun (places are nouns with a location and a direction preposition).

    ``de_gen`` is the genitive singular of masculine / neuter nouns, ``weak`` the
    accusative / dative / genitive singular of n-declension nouns ("Jungen"), ``loc``
    and ``dir`` are (English, German) prepositions: location takes the dative, direction
    the accusative except after "zu" (dative).
    """

    key: str
    en_sg: str
    en_pl: str  # "" for mass nouns
    de_sg: str
    gender: str  # "m", "f", "n"
    de_pl: str
    de_gen: str
    weak: str
    tags: frozenset[str]
    loc: tuple[str, str] | None = None
    dir: tuple[str, str] | None = None

    @property
    def lemma(self) -> str:
        return "n:" + self.key

    @property
    def countable(self) -> bool:
        # "sheep" / "fish": English plural = singular, so never plural (ambiguous)
        return bool(self.en_pl) and self.en_pl != self.en_sg


# en_sg | en_pl | de_sg | gender | de_pl | de_gen (m/n) | weak oblique | tags
# (places: | location "en de" | direction "en de" or "-")
_NOUN_TABLE = """
man|men|Mann|m|Männer|Mannes||person
woman|women|Frau|f|Frauen|||person
child|children|Kind|n|Kinder|Kindes||person
boy|boys|Junge|m|Jungen|Jungen|Jungen|person
girl|girls|Mädchen|n|Mädchen|Mädchens||person
teacher|teachers|Lehrer|m|Lehrer|Lehrers||person
doctor|doctors|Arzt|m|Ärzte|Arztes||person
friend|friends|Freund|m|Freunde|Freundes||person
brother|brothers|Bruder|m|Brüder|Bruders||person
sister|sisters|Schwester|f|Schwestern|||person
mother|mothers|Mutter|f|Mütter|||person
father|fathers|Vater|m|Väter|Vaters||person
son|sons|Sohn|m|Söhne|Sohnes||person
daughter|daughters|Tochter|f|Töchter|||person
uncle|uncles|Onkel|m|Onkel|Onkels||person
aunt|aunts|Tante|f|Tanten|||person
grandfather|grandfathers|Großvater|m|Großväter|Großvaters||person
grandmother|grandmothers|Großmutter|f|Großmütter|||person
neighbour|neighbours|Nachbar|m|Nachbarn|Nachbarn|Nachbarn|person
student|students|Student|m|Studenten|Studenten|Studenten|person
farmer|farmers|Bauer|m|Bauern|Bauern|Bauern|person
baker|bakers|Bäcker|m|Bäcker|Bäckers||person
cook|cooks|Koch|m|Köche|Kochs||person
driver|drivers|Fahrer|m|Fahrer|Fahrers||person
king|kings|König|m|Könige|Königs||person
queen|queens|Königin|f|Königinnen|||person
prince|princes|Prinz|m|Prinzen|Prinzen|Prinzen|person
princess|princesses|Prinzessin|f|Prinzessinnen|||person
pilot|pilots|Pilot|m|Piloten|Piloten|Piloten|person
soldier|soldiers|Soldat|m|Soldaten|Soldaten|Soldaten|person
police officer|police officers|Polizist|m|Polizisten|Polizisten|Polizisten|person
singer|singers|Sänger|m|Sänger|Sängers||person
painter|painters|Maler|m|Maler|Malers||person
writer|writers|Schriftsteller|m|Schriftsteller|Schriftstellers||person
guest|guests|Gast|m|Gäste|Gastes||person
customer|customers|Kunde|m|Kunden|Kunden|Kunden|person
colleague|colleagues|Kollege|m|Kollegen|Kollegen|Kollegen|person
tourist|tourists|Tourist|m|Touristen|Touristen|Touristen|person
waiter|waiters|Kellner|m|Kellner|Kellners||person
postman|postmen|Briefträger|m|Briefträger|Briefträgers||person
lawyer|lawyers|Anwalt|m|Anwälte|Anwalts||person
fisherman|fishermen|Fischer|m|Fischer|Fischers||person
hunter|hunters|Jäger|m|Jäger|Jägers||person
musician|musicians|Musiker|m|Musiker|Musikers||person
engineer|engineers|Ingenieur|m|Ingenieure|Ingenieurs||person
actor|actors|Schauspieler|m|Schauspieler|Schauspielers||person
mayor|mayors|Bürgermeister|m|Bürgermeister|Bürgermeisters||person
lady|ladies|Dame|f|Damen|||person
journalist|journalists|Journalist|m|Journalisten|Journalisten|Journalisten|person
dog|dogs|Hund|m|Hunde|Hundes||animal,pet,washable,dog,depict
cat|cats|Katze|f|Katzen|||animal,pet,depict,sweet
horse|horses|Pferd|n|Pferde|Pferdes||animal,farm,washable,depict
bird|birds|Vogel|m|Vögel|Vogels||animal,pet,catchable,depict
cow|cows|Kuh|f|Kühe|||animal,farm,depict
pig|pigs|Schwein|n|Schweine|Schweines||animal,farm
sheep|sheep|Schaf|n|Schafe|Schafes||animal,farm,depict
mouse|mice|Maus|f|Mäuse|||animal,catchable
fish|fish|Fisch|m|Fische|Fisches||animal,pet,catchable
rabbit|rabbits|Kaninchen|n|Kaninchen|Kaninchens||animal,pet,sweet
duck|ducks|Ente|f|Enten|||animal,farm
goat|goats|Ziege|f|Ziegen|||animal,farm
lion|lions|Löwe|m|Löwen|Löwen|Löwen|animal,wild,depict
bear|bears|Bär|m|Bären|Bären|Bären|animal,wild
monkey|monkeys|Affe|m|Affen|Affen|Affen|animal,wild
elephant|elephants|Elefant|m|Elefanten|Elefanten|Elefanten|animal,wild,depict
fox|foxes|Fuchs|m|Füchse|Fuchses||animal,wild
wolf|wolves|Wolf|m|Wölfe|Wolfes||animal,wild
frog|frogs|Frosch|m|Frösche|Frosches||animal,catchable
owl|owls|Eule|f|Eulen|||animal,wild
donkey|donkeys|Esel|m|Esel|Esels||animal,farm
goose|geese|Gans|f|Gänse|||animal,farm
snake|snakes|Schlange|f|Schlangen|||animal,wild
tiger|tigers|Tiger|m|Tiger|Tigers||animal,wild,depict
book|books|Buch|n|Bücher|Buches||portable,text,readable,writable,sendable,showable,
lookable,countable,thick
letter|letters|Brief|m|Briefe|Briefes||portable,text,readable,writable,sendable,
showable,openable,answerable,signable
key|keys|Schlüssel|m|Schlüssel|Schlüssels||portable,losable,without,countable
bag|bags|Tasche|f|Taschen|||portable,openable,closable,packable,unpackable,losable,
container
suitcase|suitcases|Koffer|m|Koffer|Koffers||portable,openable,closable,packable,
unpackable,lockable,container
umbrella|umbrellas|Regenschirm|m|Regenschirme|Regenschirms||portable,losable,without
ball|balls|Ball|m|Bälle|Balls||portable,catchable,round
cup|cups|Tasse|f|Tassen|||portable,dish,container
plate|plates|Teller|m|Teller|Tellers||portable,dish,round
knife|knives|Messer|n|Messer|Messers||portable,blade
spoon|spoons|Löffel|m|Löffel|Löffels||portable
fork|forks|Gabel|f|Gabeln|||portable
bottle|bottles|Flasche|f|Flaschen|||portable,openable,closable,container,countable
basket|baskets|Korb|m|Körbe|Korbes||portable,packable,container
pencil|pencils|Bleistift|m|Bleistifte|Bleistifts||portable,losable,countable
clock|clocks|Uhr|f|Uhren|||portable,repairable
ring|rings|Ring|m|Ringe|Rings||portable,losable
picture|pictures|Bild|n|Bilder|Bildes||portable,depict,showable,lookable
photo|photos|Foto|n|Fotos|Fotos||portable,showable,lookable,sendable,losable
map|maps|Landkarte|f|Landkarten|||portable,drawable,showable,lookable
ticket|tickets|Ticket|n|Tickets|Tickets||portable,losable,showable,countable
newspaper|newspapers|Zeitung|f|Zeitungen|||portable,text,readable,lookable
magazine|magazines|Zeitschrift|f|Zeitschriften|||portable,text,readable
story|stories|Geschichte|f|Geschichten|||text,readable,writable,tellable
poem|poems|Gedicht|n|Gedichte|Gedichtes||text,readable,writable
fairy tale|fairy tales|Märchen|n|Märchen|Märchens||text,readable,tellable
joke|jokes|Witz|m|Witze|Witzes||tellable
message|messages|Nachricht|f|Nachrichten|||text,readable,writable,sendable
postcard|postcards|Postkarte|f|Postkarten|||portable,text,readable,writable,sendable,
showable
parcel|parcels|Paket|n|Pakete|Paketes||portable,sendable,openable,unpackable,pickup
gift|gifts|Geschenk|n|Geschenke|Geschenkes||portable,sendable,openable,unpackable
flower|flowers|Blume|f|Blumen|||portable,depict,flower,countable
candle|candles|Kerze|f|Kerzen|||portable,countable
blanket|blankets|Decke|f|Decken|||portable,textile,thick
pillow|pillows|Kissen|n|Kissen|Kissens||portable,textile
chair|chairs|Stuhl|m|Stühle|Stuhls||furniture,repairable,countable
table|tables|Tisch|m|Tische|Tisches||furniture,repairable,round
lamp|lamps|Lampe|f|Lampen|||portable,device,repairable
mirror|mirrors|Spiegel|m|Spiegel|Spiegels||portable
hammer|hammers|Hammer|m|Hämmer|Hammers||portable
coin|coins|Münze|f|Münzen|||portable,countable,losable
telephone|telephones|Telefon|n|Telefone|Telefons||portable,device,repairable
computer|computers|Computer|m|Computer|Computers||device,repairable
radio|radios|Radio|n|Radios|Radios||portable,device,repairable
television|televisions|Fernseher|m|Fernseher|Fernsehers||device,repairable
light|lights|Licht|n|Lichter|Lichtes||device
heating|-|Heizung|f|-|||device
camera|cameras|Kamera|f|Kameras|||portable,repairable,losable
guitar|guitars|Gitarre|f|Gitarren|||portable
violin|violins|Geige|f|Geigen|||portable
piano|pianos|Klavier|n|Klaviere|Klaviers||furniture
bicycle|bicycles|Fahrrad|n|Fahrräder|Fahrrads||vehicle,repairable,lockable,washable
car|cars|Auto|n|Autos|Autos||vehicle,repairable,lockable,washable
bus|buses|Bus|m|Busse|Busses||vehicle,pubveh,takeable
train|trains|Zug|m|Züge|Zuges||vehicle,pubveh,takeable
boat|boats|Boot|n|Boote|Bootes||vehicle,buildable,washable
ship|ships|Schiff|n|Schiffe|Schiffes||vehicle,pubveh
taxi|taxis|Taxi|n|Taxis|Taxis||vehicle,takeable
plane|planes|Flugzeug|n|Flugzeuge|Flugzeugs||vehicle
truck|trucks|Lastwagen|m|Lastwagen|Lastwagens||vehicle,repairable,washable
tractor|tractors|Traktor|m|Traktoren|Traktors||vehicle,repairable
door|doors|Tür|f|Türen|||openable,closable,lockable
window|windows|Fenster|n|Fenster|Fensters||openable,closable
gate|gates|Tor|n|Tore|Tores||openable,closable,lockable
drawer|drawers|Schublade|f|Schubladen|||openable,closable,lockable
cupboard|cupboards|Schrank|m|Schränke|Schranks||furniture,openable,closable,tidy
desk|desks|Schreibtisch|m|Schreibtische|Schreibtisches||furniture,tidy
shelf|shelves|Regal|n|Regale|Regals||furniture,buildable
fence|fences|Zaun|m|Zäune|Zaunes||buildable
tower|towers|Turm|m|Türme|Turmes||buildable,sight,high
roof|roofs|Dach|n|Dächer|Daches||repairable
coat|coats|Mantel|m|Mäntel|Mantels||clothing,without
jacket|jackets|Jacke|f|Jacken|||clothing,without
hat|hats|Hut|m|Hüte|Hutes||clothing,without
shoe|shoes|Schuh|m|Schuhe|Schuhs||clothing
dress|dresses|Kleid|n|Kleider|Kleides||clothing
shirt|shirts|Hemd|n|Hemden|Hemdes||clothing
scarf|scarves|Schal|m|Schals|Schals||clothing,without
glove|gloves|Handschuh|m|Handschuhe|Handschuhs||clothing,losable
sweater|sweaters|Pullover|m|Pullover|Pullovers||clothing,thick
skirt|skirts|Rock|m|Röcke|Rockes||clothing
sock|socks|Socke|f|Socken|||clothing
boot|boots|Stiefel|m|Stiefel|Stiefels||clothing
apple|apples|Apfel|m|Äpfel|Apfels||food,fruit,countable
banana|bananas|Banane|f|Bananen|||food,fruit
orange|oranges|Orange|f|Orangen|||food,fruit
pear|pears|Birne|f|Birnen|||food,fruit
cake|cakes|Kuchen|m|Kuchen|Kuchens||food,bake,sweet
bread|-|Brot|n|-|Brotes||food,bake,bread
egg|eggs|Ei|n|Eier|Eies||food,cookable,countable
sandwich|sandwiches|Sandwich|n|Sandwiches|Sandwichs||food
soup|soups|Suppe|f|Suppen|||food,cookable
potato|potatoes|Kartoffel|f|Kartoffeln|||food,cookable
carrot|carrots|Karotte|f|Karotten|||food
tomato|tomatoes|Tomate|f|Tomaten|||food
onion|onions|Zwiebel|f|Zwiebeln|||food
cheese|-|Käse|m|-|Käses||food
rice|-|Reis|m|-|Reises||food,cookable
meat|-|Fleisch|n|-|Fleisches||food,cookable
chocolate|-|Schokolade|f|-|||food,sweet
biscuit|biscuits|Keks|m|Kekse|Kekses||food,bake,sweet
pizza|pizzas|Pizza|f|Pizzas|||food,bake
salad|salads|Salat|m|Salate|Salats||food
sausage|sausages|Wurst|f|Würste|||food
water|-|Wasser|n|-|Wassers||drink
milk|-|Milch|f|-|||drink
coffee|-|Kaffee|m|-|Kaffees||drink
tea|-|Tee|m|-|Tees||drink
juice|-|Saft|m|-|Saftes||drink
wine|-|Wein|m|-|Weines||drink
beer|-|Bier|n|-|Bieres||drink
lemonade|-|Limonade|f|-|||drink
money|-|Geld|n|-|Geldes||money
music|-|Musik|f|-|||music
help|-|Hilfe|f|-|||help
concert|concerts|Konzert|n|Konzerte|Konzerts||event,begins
party|parties|Party|f|Partys|||event,begins,preparable
meeting|meetings|Treffen|n|Treffen|Treffens||event,begins,preparable
film|films|Film|m|Filme|Films||event,begins
game|games|Spiel|n|Spiele|Spiels||event,begins
wedding|weddings|Hochzeit|f|Hochzeiten|||event,begins,preparable
exam|exams|Prüfung|f|Prüfungen|||event,begins,hard
journey|journeys|Reise|f|Reisen|||event,begins,preparable
course|courses|Kurs|m|Kurse|Kurses||event,begins
birthday|birthdays|Geburtstag|m|Geburtstage|Geburtstags||event
appointment|appointments|Termin|m|Termine|Termins||event,begins
dinner|dinners|Abendessen|n|Abendessen|Abendessens||preparable
breakfast|breakfasts|Frühstück|n|Frühstücke|Frühstücks||preparable
lunch|lunches|Mittagessen|n|Mittagessen|Mittagessens||preparable
question|questions|Frage|f|Fragen|||abstract,understandable,answerable
problem|problems|Problem|n|Probleme|Problems||abstract,understandable,explainable
rule|rules|Regel|f|Regeln|||abstract,understandable,explainable
plan|plans|Plan|m|Pläne|Plans||abstract,understandable,explainable
idea|ideas|Idee|f|Ideen|||abstract,understandable,explainable
word|words|Wort|n|Wörter|Wortes||abstract,understandable,explainable,notable
address|addresses|Adresse|f|Adressen|||notable
phone number|phone numbers|Telefonnummer|f|Telefonnummern|||notable
answer|answers|Antwort|f|Antworten|||notable
recipe|recipes|Rezept|n|Rezepte|Rezepts||notable,explainable,readable
list|lists|Liste|f|Listen|||writable
bill|bills|Rechnung|f|Rechnungen|||payable
rent|-|Miete|f|-|||payable
contract|contracts|Vertrag|m|Verträge|Vertrags||signable,readable
house|houses|Haus|n|Häuser|Hauses||place,dwell,buildable,sight,sleep|in in|into in
garden|gardens|Garten|m|Gärten|Gartens||place,outdoor,play,work,eat,read,
sleep|in in|into in
kitchen|kitchens|Küche|f|Küchen|||place,room,tidy,work,eat,kitchen|in in|into in
room|rooms|Zimmer|n|Zimmer|Zimmers||place,room,tidy,play,read,sleep|in in|into in
bedroom|bedrooms|Schlafzimmer|n|Schlafzimmer|Schlafzimmers||place,room,tidy,read,
sleep|in in|into in
living room|living rooms|Wohnzimmer|n|Wohnzimmer|Wohnzimmers||place,room,tidy,play,eat,
read,sleep|in in|into in
bathroom|bathrooms|Badezimmer|n|Badezimmer|Badezimmers||place,room,tidy|in in|into in
classroom|classrooms|Klassenzimmer|n|Klassenzimmer|Klassenzimmers||place,room,tidy,
read|in in|into in
garage|garages|Garage|f|Garagen|||place,room,tidy,work,buildable|in in|into in
cellar|cellars|Keller|m|Keller|Kellers||place,room,tidy|in in|into in
office|offices|Büro|n|Büros|Büros||place,room,tidy,work,read|in in|to in
park|parks|Park|m|Parks|Parks||place,outdoor,play,wait,read,eat|in in|into in
forest|forests|Wald|m|Wälder|Waldes||place,outdoor,far|in in|into in
street|streets|Straße|f|Straßen|||place,outdoor,play,wait,wide|in auf|-
field|fields|Feld|n|Felder|Feldes||place,outdoor,work|in auf|-
beach|beaches|Strand|m|Strände|Strandes||place,outdoor,play,far|on an|to zu
lake|lakes|See|m|Seen|Sees||place,outdoor,water,far|at an|to zu
river|rivers|Fluss|m|Flüsse|Flusses||place,outdoor,water,wide,far|at an|to zu
bridge|bridges|Brücke|f|Brücken|||place,outdoor,wait,buildable,sight,wide|on auf|to zu
square|squares|Platz|m|Plätze|Platzes||place,outdoor,wait,play|on auf|to zu
playground|playgrounds|Spielplatz|m|Spielplätze|Spielplatzes||place,outdoor,
play|at auf|to zu
farm|farms|Bauernhof|m|Bauernhöfe|Bauernhofs||place,dwell,work,far|on auf|to zu
island|islands|Insel|f|Inseln|||place,outdoor,dwell|on auf|to zu
mountain|mountains|Berg|m|Berge|Berges||place,outdoor,high|on auf|-
station|stations|Bahnhof|m|Bahnhöfe|Bahnhofs||place,public,arrive,wait,work,
far|at an|to zu
airport|airports|Flughafen|m|Flughäfen|Flughafens||place,public,arrive,wait,work,
far|at an|to zu
harbour|harbours|Hafen|m|Häfen|Hafens||place,public,arrive,wait,work,far|in in|to zu
market|markets|Markt|m|Märkte|Marktes||place,public,work,far|at auf|to zu
school|schools|Schule|f|Schulen|||place,public,work,far|in in|to zu
church|churches|Kirche|f|Kirchen|||place,public,sight|in in|to zu
library|libraries|Bibliothek|f|Bibliotheken|||place,public,work,read|in in|to zu
museum|museums|Museum|n|Museen|Museums||place,public,sight,work,far|in in|into in
cinema|cinemas|Kino|n|Kinos|Kinos||place,public|in in|to in
theatre|theatres|Theater|n|Theater|Theaters||place,public,sight,far|in in|to in
restaurant|restaurants|Restaurant|n|Restaurants|Restaurants||place,public,eat,
work|in in|to in
hospital|hospitals|Krankenhaus|n|Krankenhäuser|Krankenhauses||place,public,work,
far|in in|to in
bank|banks|Bank|f|Banken|||place,public,work|in in|to zu
bakery|bakeries|Bäckerei|f|Bäckereien|||place,public,work|in in|to zu
supermarket|supermarkets|Supermarkt|m|Supermärkte|Supermarkts||place,public,work,
far|in in|to zu
hotel|hotels|Hotel|n|Hotels|Hotels||place,public,work,sleep,arrive,far|in in|to zu
zoo|zoos|Zoo|m|Zoos|Zoos||place,public,sight,far|in in|to in
stadium|stadiums|Stadion|n|Stadien|Stadions||place,public,sight,far|in in|to in
swimming pool|swimming pools|Schwimmbad|n|Schwimmbäder|Schwimmbades||place,
public|in in|to in
village|villages|Dorf|n|Dörfer|Dorfes||place,dwell,far|in in|to in
city|cities|Stadt|f|Städte|||place,dwell,far|in in|into in
castle|castles|Schloss|n|Schlösser|Schlosses||place,dwell,sight,buildable,
far|in in|to zu
"""


def _table_lines(table: str) -> list[str]:
    """Lines of a table; a line ending with "," continues on the next one."""
    out: list[str] = []
    for line in table.strip().splitlines():
        if out and out[-1].endswith(","):
            out[-1] += line.strip()
        else:
            out.append(line.strip())
    return out


def _parse_nouns(table: str) -> tuple[Noun, ...]:
    nouns = []
    for line in _table_lines(table):
        f = line.split("|")
        en_sg, en_pl, de_sg, gender, de_pl, de_gen, weak, tags = f[:8]
        loc = tuple(f[8].split()) if len(f) > 8 else None
        dir_ = tuple(f[9].split()) if len(f) > 9 and f[9] != "-" else None
        nouns.append(
            Noun(
                key=en_sg.replace(" ", "_"),
                en_sg=en_sg,
                en_pl="" if en_pl == "-" else en_pl,
                de_sg=de_sg,
                gender=gender,
                de_pl="" if de_pl == "-" else de_pl,
                de_gen=de_gen or de_sg,
                weak=weak,
                tags=frozenset(tags.split(",")),
                loc=loc,  # type: ignore[arg-type]
                dir=dir_,  # type: ignore[arg-type]
            )
        )
    return tuple(nouns)


NOUNS: tuple[Noun, ...] = _parse_nouns(_NOUN_TABLE)


@dataclass(frozen=True)
class Adj:
    """An adjective: predicative German form and attributive stem ("teuer" / "teur")."""

    en: str
    de: str
    stem: str
    tags: frozenset[str]  # noun tags it combines with

    @property
    def lemma(self) -> str:
        return "a:" + self.en


# en | de (predicative) | attributive stem if different | noun tags
_ADJ_TABLE = """
old|alt||person,animal,portable,clothing,vehicle,furniture,place,text,device
new|neu||person,portable,clothing,vehicle,furniture,place,device,text,notable
young|jung||person,animal
big|groß||animal,portable,vehicle,furniture,place,clothing,device
small|klein||person,animal,portable,vehicle,furniture,place,clothing,device
long|lang||text,clothing,event
short|kurz||text,clothing,event
good|gut||person,food,drink,text,event,abstract
bad|schlecht||food,drink,text,event,abstract
beautiful|schön||person,animal,place,clothing,vehicle,flower,event
ugly|hässlich||animal,clothing,place,portable,vehicle
happy|glücklich||person,animal
glad|froh||predicative_only
sad|traurig||person,tellable
tired|müde||person,animal
hungry|hungrig||person,animal
thirsty|durstig||person,animal
friendly|freundlich||person,animal
polite|höflich||person
clever|klug||person,animal
rich|reich||person
poor|arm||person
famous|berühmt||person,sight,text
strange|seltsam||person,animal,portable,text,event,place
loud|laut||person,animal,device,event,outdoor
quiet|ruhig||person,animal,place
fast|schnell||animal,vehicle
slow|langsam||animal,vehicle
cheap|billig||portable,clothing,food,drink,vehicle,furniture,device
expensive|teuer|teur|portable,clothing,food,drink,vehicle,furniture,device
heavy|schwer||portable,furniture,device
difficult|schwierig||abstract,hard
empty|leer||container,room
full|voll||container,room,pubveh
clean|sauber||clothing,room,vehicle,dish
dirty|schmutzig||clothing,room,vehicle,dish,animal
dark|dunkel|dunkl|room,outdoor,clothing
bright|hell||room
warm|warm||clothing,drink,food,room,textile
cold|kalt||drink,food,room,water
hot|heiß||drink,food
fresh|frisch||food,drink
sweet|süß||sweet,fruit
wet|nass||clothing,animal,outdoor,textile
dry|trocken||clothing,bread,textile
soft|weich||clothing,textile
red|rot||portable,clothing,vehicle,furniture,fruit,flower
blue|blau||portable,clothing,vehicle,furniture,flower
green|grün||portable,clothing,vehicle,furniture,fruit
yellow|gelb||portable,clothing,vehicle,flower,fruit
black|schwarz||portable,clothing,vehicle,animal,furniture
white|weiß||portable,clothing,vehicle,animal,furniture,flower
brown|braun||portable,clothing,animal,furniture
grey|grau||clothing,animal,vehicle
dangerous|gefährlich||wild,outdoor
wild|wild||animal
brave|mutig||person
proud|stolz||person
lazy|faul||person,animal
busy|beschäftigt||person
angry|wütend||person,animal
nervous|nervös||person,animal
funny|lustig||person,text,event,tellable
boring|langweilig||person,text,event
interesting|interessant||person,text,event,sight,abstract
important|wichtig||person,text,event,abstract
modern|modern||place,vehicle,device,furniture
wonderful|wunderbar||place,event,text,food
terrible|schrecklich||event,food,text
sick|krank||person,animal
healthy|gesund||person,animal,food
strong|stark||person,animal
weak|schwach||person,animal
thin|dünn||person,animal,thick
thick|dick||thick
wide|breit||wide
narrow|eng||wide
deep|tief||water
high|hoch|hoh|high
cosy|gemütlich||room
round|rund||round
sharp|scharf||blade
ripe|reif||fruit
tasty|lecker||food
hard-working|fleißig||person
"""


def _parse_adjs(table: str) -> tuple[Adj, ...]:
    out = []
    for line in _table_lines(table):
        en, de, stem, tags = line.split("|")
        out.append(Adj(en, de, stem or de, frozenset(tags.split(","))))
    return tuple(out)


ADJECTIVES: tuple[Adj, ...] = _parse_adjs(_ADJ_TABLE)


@dataclass(frozen=True)
class Verb:
    """A verb with its English forms and German present / participle / auxiliary.

    ``frames`` maps a frame to the noun tags it takes: "tr" (accusative object),
    "ditr" (dative person + accusative theme), "dat" (dative object), "prep"
    (prepositional object ``de_prep``, English ``en_prep``), "intr", "loc" (location
    complement, place tags / "geo" / "home"), "dir" (direction complement), "matrix"
    (takes a dass-clause), "cop" (the copula).
    """

    key: str
    en: tuple[str, str, str, str]  # base, 3sg, past, participle
    en_part: str  # phrasal particle: switch *on* the light / switch it *on*
    en_prep: str  # look *for* X, listen *to* X
    de_inf: str
    de_3sg: str  # without the separable prefix
    de_pp: str
    aux: str  # "haben" or "sein"
    prefix: str  # separable prefix
    de_1sg: str  # irregular first person singular, else derived
    de_prep: str  # "auf+acc"
    frames: tuple[tuple[str, tuple[str, ...]], ...]
    subj: tuple[str, ...]  # subject tags
    pp: tuple[str, ...]  # adjunct prepositions it takes: with, for, without
    present_only: bool

    @property
    def lemma(self) -> str:
        return "v:" + self.key

    def frame_names(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.frames)

    def tags(self, frame: str) -> tuple[str, ...]:
        return dict(self.frames)[frame]


def _v(
    en: str,
    de: str,
    frames: str,
    *,
    part: str = "",
    prep: str = "",
    de_prep: str = "",
    subj: str = "person",
    pp: str = "",
    sg1: str = "",
    key: str = "",
    present_only: bool = False,
) -> Verb:
    base, s3, past, ppl = en.split()
    inf, de3, de_pp, aux = de.split()
    prefix = inf.split("|")[0] if "|" in inf else ""
    parsed = []
    for spec in frames.split(";"):
        name, _, tags = spec.partition("=")
        parsed.append((name, tuple(t for t in tags.split(",") if t)))
    return Verb(
        key=key or "_".join(w for w in (base, part, prep) if w),
        en=(base, s3, past, ppl),
        en_part=part,
        en_prep=prep,
        de_inf=inf.replace("|", ""),
        de_3sg=de3,
        de_pp=de_pp,
        aux={"h": "haben", "s": "sein"}[aux],
        prefix=prefix,
        de_1sg=sg1,
        de_prep=de_prep,
        frames=tuple(parsed),
        subj=tuple(subj.split(",")),
        pp=tuple(p for p in pp.split(",") if p),
        present_only=present_only,
    )


_ITEM = "portable,food,drink,clothing"
VERBS: tuple[Verb, ...] = (
    # accusative object
    _v(
        "buy buys bought bought",
        "kaufen kauft gekauft h",
        f"tr={_ITEM},vehicle,pet;ditr=portable,food,clothing",
        pp="for,with",
    ),
    _v(
        "sell sells sold sold",
        "verkaufen verkauft verkauft h",
        "tr=portable,vehicle,clothing,farm;ditr=portable,vehicle",
        pp="for",
    ),
    _v(
        "find finds found found", "finden findet gefunden h", "tr=portable,clothing,pet"
    ),
    _v(
        "see sees saw seen",
        "sehen sieht gesehen h",
        "tr=person,animal,vehicle,sight",
        subj="person,animal",
    ),
    _v(
        "read reads read read",
        "lesen liest gelesen h",
        "tr=readable;intr;loc=read",
    ),
    _v(
        "write writes wrote written",
        "schreiben schreibt geschrieben h",
        "tr=writable;ditr=sendable",
        pp="for",
    ),
    _v("open opens opened opened", "öffnen öffnet geöffnet h", "tr=openable"),
    _v("close closes closed closed", "schließen schließt geschlossen h", "tr=closable"),
    _v(
        "carry carries carried carried",
        "tragen trägt getragen h",
        "tr=portable",
        pp="for",
    ),
    _v("wear wears wore worn", "tragen trägt getragen h", "tr=clothing"),
    _v(
        "wash washes washed washed",
        "waschen wäscht gewaschen h",
        "tr=clothing,washable",
    ),
    _v(
        "eat eats ate eaten",
        "essen isst gegessen h",
        "tr=food;intr;loc=eat",
        subj="person,animal",
        pp="with",
    ),
    _v("drink drinks drank drunk", "trinken trinkt getrunken h", "tr=drink"),
    _v(
        "cook cooks cooked cooked",
        "kochen kocht gekocht h",
        "tr=cookable;ditr=cookable;loc=kitchen",
        pp="for,with",
    ),
    _v(
        "bake bakes baked baked",
        "backen backt gebacken h",
        "tr=bake;ditr=bake",
        pp="for,with",
    ),
    _v(
        "visit visits visited visited",
        "besuchen besucht besucht h",
        "tr=person,sight",
        pp="with",
    ),
    _v("meet meets met met", "treffen trifft getroffen h", "tr=person"),
    _v("love loves loved loved", "lieben liebt geliebt h", "tr=person,animal"),
    _v(
        "know knows knew known",
        "kennen kennt gekannt h",
        "tr=person,sight",
        key="know_person",
        present_only=True,
    ),
    _v(
        "need needs needed needed",
        "brauchen braucht gebraucht h",
        "tr=portable,clothing,money",
    ),
    _v(
        "forget forgets forgot forgotten",
        "vergessen vergisst vergessen h",
        "tr=losable",
    ),
    _v("lose loses lost lost", "verlieren verliert verloren h", "tr=losable,money"),
    _v(
        "look looks looked looked",
        "suchen sucht gesucht h",
        "tr=losable,person,pet",
        prep="for",
    ),
    _v("take takes took taken", "nehmen nimmt genommen h", "tr=portable,takeable"),
    _v(
        "bring brings brought brought",
        "bringen bringt gebracht h",
        "tr=portable,food,drink;ditr=portable,food,drink",
    ),
    _v("paint paints painted painted", "malen malt gemalt h", "tr=depict", pp="for"),
    _v(
        "draw draws drew drawn",
        "zeichnen zeichnet gezeichnet h",
        "tr=depict,drawable",
        pp="for",
    ),
    _v(
        "build builds built built", "bauen baut gebaut h", "tr=buildable", pp="for,with"
    ),
    _v(
        "repair repairs repaired repaired",
        "reparieren repariert repariert h",
        "tr=repairable",
        pp="for,with",
    ),
    _v("feed feeds fed fed", "füttern füttert gefüttert h", "tr=animal"),
    _v(
        "catch catches caught caught",
        "fangen fängt gefangen h",
        "tr=catchable",
        subj="person,animal",
    ),
    _v(
        "hear hears heard heard",
        "hören hört gehört h",
        "tr=person,animal,music",
        subj="person,animal",
    ),
    _v(
        "order orders ordered ordered",
        "bestellen bestellt bestellt h",
        "tr=food,drink",
        pp="for",
    ),
    _v("pay pays paid paid", "bezahlen bezahlt bezahlt h", "tr=payable"),
    _v("ask asks asked asked", "fragen fragt gefragt h", "tr=person"),
    _v(
        "understand understands understood understood",
        "verstehen versteht verstanden h",
        "tr=understandable,person",
    ),
    _v(
        "explain explains explained explained",
        "erklären erklärt erklärt h",
        "tr=explainable",
    ),
    _v(
        "answer answers answered answered",
        "beantworten beantwortet beantwortet h",
        "tr=answerable",
        key="answer_question",
    ),
    _v(
        "teach teaches taught taught",
        "unterrichten unterrichtet unterrichtet h",
        "tr=person",
    ),
    _v("hug hugs hugged hugged", "umarmen umarmt umarmt h", "tr=person"),
    _v("greet greets greeted greeted", "begrüßen begrüßt begrüßt h", "tr=person"),
    _v("kiss kisses kissed kissed", "küssen küsst geküsst h", "tr=person"),
    _v(
        "photograph photographs photographed photographed",
        "fotografieren fotografiert fotografiert h",
        "tr=person,animal,sight,vehicle",
    ),
    _v(
        "sign signs signed signed",
        "unterschreiben unterschreibt unterschrieben h",
        "tr=signable",
    ),
    _v("count counts counted counted", "zählen zählt gezählt h", "tr=countable,money"),
    _v("hide hides hid hidden", "verstecken versteckt versteckt h", "tr=portable"),
    _v("pack packs packed packed", "packen packt gepackt h", "tr=packable"),
    _v(
        "tell tells told told",
        "erzählen erzählt erzählt h",
        "tr=tellable;ditr=tellable",
    ),
    _v(
        "show shows showed shown",
        "zeigen zeigt gezeigt h",
        "tr=showable;ditr=showable",
    ),
    _v(
        "send sends sent sent",
        "schicken schickt geschickt h",
        "tr=sendable;ditr=sendable",
    ),
    _v(
        "give gives gave given",
        "geben gibt gegeben h",
        "ditr=portable,food,drink,money",
    ),
    _v(
        "lend lends lent lent",
        "leihen leiht geliehen h",
        "ditr=portable,money,vehicle",
    ),
    _v(
        "have has had had",
        "haben hat gehabt h",
        "tr=portable,pet,vehicle,clothing",
        present_only=True,
    ),
    # prepositional objects
    _v(
        "wait waits waited waited",
        "warten wartet gewartet h",
        "prep=person,pubveh,takeable",
        prep="for",
        de_prep="auf+acc",
    ),
    _v(
        "think thinks thought thought",
        "denken denkt gedacht h",
        "prep=person,pet,event",
        prep="of",
        de_prep="an+acc",
    ),
    _v(
        "talk talks talked talked",
        "sprechen spricht gesprochen h",
        "prep=person,event,readable,abstract",
        prep="about",
        de_prep="über+acc",
    ),
    _v(
        "talk talks talked talked",
        "sprechen spricht gesprochen h",
        "prep=person",
        prep="to",
        de_prep="mit+dat",
    ),
    _v(
        "dream dreams dreamed dreamed",
        "träumen träumt geträumt h",
        "prep=person,vehicle,event,sight,pet",
        prep="of",
        de_prep="von+dat",
    ),
    _v(
        "laugh laughs laughed laughed",
        "lachen lacht gelacht h",
        "prep=person,tellable",
        prep="at",
        de_prep="über+acc",
    ),
    _v(
        "ask asks asked asked",
        "bitten bittet gebeten h",
        "prep=money,help,drink",
        prep="for",
        de_prep="um+acc",
    ),
    # dative object
    _v("help helps helped helped", "helfen hilft geholfen h", "dat=person"),
    _v("thank thanks thanked thanked", "danken dankt gedankt h", "dat=person"),
    _v(
        "follow follows followed followed",
        "folgen folgt gefolgt s",
        "dat=person,animal",
        subj="person,animal",
    ),
    _v("trust trusts trusted trusted", "vertrauen vertraut vertraut h", "dat=person"),
    _v(
        "congratulate congratulates congratulated congratulated",
        "gratulieren gratuliert gratuliert h",
        "dat=person",
    ),
    _v(
        "answer answers answered answered",
        "antworten antwortet geantwortet h",
        "dat=person",
        key="answer_person",
    ),
    _v(
        "contradict contradicts contradicted contradicted",
        "widersprechen widerspricht widersprochen h",
        "dat=person",
    ),
    _v("wave waves waved waved", "winken winkt gewinkt h", "dat=person", prep="to"),
    _v(
        "listen listens listened listened",
        "zu|hören hört zugehört h",
        "dat=person",
        prep="to",
    ),
    # separable, accusative object
    _v("call calls called called", "an|rufen ruft angerufen h", "tr=person"),
    _v("invite invites invited invited", "ein|laden lädt eingeladen h", "tr=person"),
    _v(
        "pick picks picked picked",
        "ab|holen holt abgeholt h",
        "tr=person,pickup",
        part="up",
    ),
    _v(
        "wake wakes woke woken",
        "auf|wecken weckt aufgeweckt h",
        "tr=person",
        part="up",
        key="wake_up_someone",
    ),
    _v(
        "switch switches switched switched",
        "ein|schalten schaltet eingeschaltet h",
        "tr=device",
        part="on",
    ),
    _v(
        "switch switches switched switched",
        "aus|schalten schaltet ausgeschaltet h",
        "tr=device",
        part="off",
    ),
    _v(
        "tidy tidies tidied tidied",
        "auf|räumen räumt aufgeräumt h",
        "tr=tidy",
        part="up",
    ),
    _v(
        "prepare prepares prepared prepared",
        "vor|bereiten bereitet vorbereitet h",
        "tr=preparable",
    ),
    _v(
        "give gives gave given",
        "zurück|geben gibt zurückgegeben h",
        "tr=portable,readable",
        part="back",
    ),
    _v(
        "throw throws threw thrown",
        "weg|werfen wirft weggeworfen h",
        "tr=portable,food,clothing,readable",
        part="away",
    ),
    _v("put puts put put", "an|ziehen zieht angezogen h", "tr=clothing", part="on"),
    _v(
        "take takes took taken",
        "aus|ziehen zieht ausgezogen h",
        "tr=clothing",
        part="off",
    ),
    _v(
        "lock locks locked locked",
        "ab|schließen schließt abgeschlossen h",
        "tr=lockable",
    ),
    _v(
        "write writes wrote written",
        "auf|schreiben schreibt aufgeschrieben h",
        "tr=notable",
        part="down",
    ),
    _v(
        "offer offers offered offered",
        "an|bieten bietet angeboten h",
        "tr=food,drink;ditr=food,drink",
    ),
    _v(
        "unpack unpacks unpacked unpacked",
        "aus|packen packt ausgepackt h",
        "tr=unpackable",
    ),
    # intransitive, haben
    _v(
        "sleep sleeps slept slept",
        "schlafen schläft geschlafen h",
        "intr;loc=sleep,home",
        subj="person,animal",
    ),
    _v(
        "work works worked worked",
        "arbeiten arbeitet gearbeitet h",
        "intr;loc=work,home,geo",
        pp="with",
    ),
    _v("live lives lived lived", "wohnen wohnt gewohnt h", "loc=dwell,geo"),
    _v(
        "wait waits waited waited",
        "warten wartet gewartet h",
        "intr;loc=wait",
        pp="with",
    ),
    _v("laugh laughs laughed laughed", "lachen lacht gelacht h", "intr"),
    _v("cry cries cried cried", "weinen weint geweint h", "intr"),
    _v(
        "sing sings sang sung",
        "singen singt gesungen h",
        "intr;loc=room,outdoor,public",
        pp="for,with",
    ),
    _v(
        "dance dances danced danced",
        "tanzen tanzt getanzt h",
        "intr;loc=room,outdoor",
        pp="with",
    ),
    _v(
        "play plays played played",
        "spielen spielt gespielt h",
        "intr;loc=play",
        subj="person,animal",
        pp="with",
    ),
    _v(
        "smile smiles smiled smiled",
        "lächeln lächelt gelächelt h",
        "intr",
        sg1="lächle",
    ),
    _v("shout shouts shouted shouted", "schreien schreit geschrien h", "intr"),
    _v("bark barks barked barked", "bellen bellt gebellt h", "intr", subj="dog"),
    _v(
        "begin begins began begun", "beginnen beginnt begonnen h", "intr", subj="begins"
    ),
    _v("end ends ended ended", "enden endet geendet h", "intr", subj="begins"),
    # motion and change of state, sein
    _v(
        "go goes went gone",
        "gehen geht gegangen s",
        "dir=place,home",
        pp="with,without",
    ),
    _v(
        "come comes came come",
        "kommen kommt gekommen s",
        "intr;dir=place,home,geo",
        pp="with,without",
    ),
    _v(
        "drive drives drove driven",
        "fahren fährt gefahren s",
        "dir=far,home,geo",
        pp="with,without",
    ),
    _v("fly flies flew flown", "fliegen fliegt geflogen s", "dir=geo,home", pp="with"),
    _v(
        "travel travels travelled travelled",
        "reisen reist gereist s",
        "dir=geo",
        pp="with,without",
    ),
    _v(
        "run runs ran run",
        "laufen läuft gelaufen s",
        "dir=place,home",
        subj="person,animal",
    ),
    _v(
        "return returns returned returned",
        "zurück|kehren kehrt zurückgekehrt s",
        "dir=geo,home",
    ),
    _v(
        "arrive arrives arrived arrived",
        "an|kommen kommt angekommen s",
        "intr;loc=arrive,geo",
        subj="person,pubveh",
    ),
    _v(
        "depart departs departed departed",
        "ab|fahren fährt abgefahren s",
        "intr",
        subj="pubveh",
    ),
    _v("get gets got got", "auf|stehen steht aufgestanden s", "intr", part="up"),
    _v(
        "fall falls fell fallen",
        "ein|schlafen schläft eingeschlafen s",
        "intr;loc=room,outdoor",
        part="asleep",
        subj="person,animal",
    ),
    _v(
        "wake wakes woke woken",
        "auf|wachen wacht aufgewacht s",
        "intr",
        part="up",
        key="wake_up",
        subj="person,animal",
    ),
    _v("go goes went gone", "aus|gehen geht ausgegangen s", "intr", part="out"),
    _v(
        "come comes came come",
        "zurück|kommen kommt zurückgekommen s",
        "intr",
        part="back",
    ),
    _v("stay stays stayed stayed", "bleiben bleibt geblieben s", "loc=home,geo,room"),
    _v(
        "fall falls fell fallen",
        "fallen fällt gefallen s",
        "intr",
        subj="person,animal",
    ),
    _v(
        "jump jumps jumped jumped",
        "springen springt gesprungen s",
        "intr",
        subj="person,animal",
    ),
    # take a dass-clause
    _v(
        "know knows knew known",
        "wissen weiß gewusst h",
        "matrix",
        sg1="weiß",
        key="know_that",
    ),
    _v("say says said said", "sagen sagt gesagt h", "matrix"),
    _v("believe believes believed believed", "glauben glaubt geglaubt h", "matrix"),
    _v("hope hopes hoped hoped", "hoffen hofft gehofft h", "matrix"),
    # the copula (forms are irregular and handled apart)
    _v("be is was been", "sein ist gewesen s", "cop"),
)


@dataclass(frozen=True)
class Adverb:
    en: str
    de: str
    kind: str  # "freq" or "manner"
    verbs: frozenset[str]  # manner adverbs: the verb keys they go with

    @property
    def lemma(self) -> str:
        return "adv:" + self.en


def _adv(en: str, de: str, kind: str, verbs: str = "") -> Adverb:
    return Adverb(en, de, kind, frozenset(verbs.split()))


ADVERBS: tuple[Adverb, ...] = (
    _adv("often", "oft", "freq"),
    _adv("always", "immer", "freq"),
    _adv("sometimes", "manchmal", "freq"),
    _adv("rarely", "selten", "freq"),
    _adv(
        "slowly",
        "langsam",
        "manner",
        "go drive run read eat open close write come travel",
    ),
    _adv(
        "quickly",
        "schnell",
        "manner",
        "go drive run read eat write come repair tidy_up pack unpack",
    ),
    _adv(
        "carefully",
        "vorsichtig",
        "manner",
        "open carry read drive repair wash pack close",
    ),
    _adv("quietly", "leise", "manner", "sing laugh cry open close talk_to"),
    _adv("loudly", "laut", "manner", "sing laugh cry shout bark"),
    _adv("well", "gut", "manner", "sing dance cook sleep work write drive paint draw"),
    _adv("badly", "schlecht", "manner", "sing dance cook sleep drive"),
    _adv("alone", "allein", "manner", "travel live work go eat come fly drive"),
)


@dataclass(frozen=True)
class Name:
    en: str
    de: str

    @property
    def lemma(self) -> str:
        return "name:" + self.en


# spelled the same in both languages; none ends in s / x / z (German genitive "Annas")
NAMES: tuple[Name, ...] = tuple(
    Name(n, n)
    for n in (
        "Anna Peter Paul Martin Emma Laura Julia Lisa Sarah David Daniel Michael Eva "
        "Sophie Oliver Simon Tom Ben Lena Nina Clara Maria Robert Frank Otto Hannah "
        "Leo Emil Linda Kevin Stefan Erik Rita Greta Mia Diana Sandra Monika Karl "
        "Nora Ella Tim"
    ).split()
)


@dataclass(frozen=True)
class Geo:
    """A town or a country without article: "in Berlin", "nach Frankreich"."""

    en: str
    de: str

    @property
    def lemma(self) -> str:
        return "g:" + self.en


_GEO_TABLE = """
Berlin Berlin|Hamburg Hamburg|Munich München|Cologne Köln|Vienna Wien|Zurich Zürich|
Paris Paris|London London|Rome Rom|Madrid Madrid|Lisbon Lissabon|Prague Prag|
Warsaw Warschau|Moscow Moskau|Athens Athen|Brussels Brüssel|Amsterdam Amsterdam|
Copenhagen Kopenhagen|Stockholm Stockholm|Oslo Oslo|Dublin Dublin|
Edinburgh Edinburgh|Venice Venedig|Milan Mailand|Florence Florenz|Naples Neapel|
Geneva Genf|Dresden Dresden|Frankfurt Frankfurt|Leipzig Leipzig|Bremen Bremen|
Hanover Hannover|Nuremberg Nürnberg|Tokyo Tokio|Cairo Kairo|France Frankreich|
Germany Deutschland|Italy Italien|Spain Spanien|Austria Österreich|England England|
Scotland Schottland|Ireland Irland|Sweden Schweden|Norway Norwegen|
Denmark Dänemark|Poland Polen|Greece Griechenland|Portugal Portugal|
Russia Russland|Japan Japan|China China|Egypt Ägypten|Canada Kanada|
Belgium Belgien|Finland Finnland|Hungary Ungarn|Australia Australien
"""
GEO: tuple[Geo, ...] = tuple(
    Geo(*item.split()) for item in _GEO_TABLE.replace("\n", "").split("|")
)


@dataclass(frozen=True)
class Home:
    """ "at home" / "zu Hause" and "home" / "nach Hause"."""

    @property
    def lemma(self) -> str:
        return "g:home"


HOME = Home()


@dataclass(frozen=True)
class TimeWord:
    """A time adverbial; ``tenses`` says whether it goes with present (p) / past (x)."""

    en: str
    de: str
    tenses: str
    key: str = ""

    @property
    def lemma(self) -> str:
        return "t:" + (self.key or self.en)


_TIME_TABLE = """
today|heute|px
tomorrow|morgen|p
yesterday|gestern|x
now|jetzt|p
soon|bald|p
later|später|p
the day after tomorrow|übermorgen|p
the day before yesterday|vorgestern|x
tonight|heute Abend|p
this morning|heute Morgen|px
last week|letzte Woche|x
next week|nächste Woche|p
last month|letzten Monat|x
next month|nächsten Monat|p
last year|letztes Jahr|x
next year|nächstes Jahr|p
every day|jeden Tag|px
every morning|jeden Morgen|px
every evening|jeden Abend|px
every week|jede Woche|px
at the weekend|am Wochenende|px
in the morning|am Morgen|px
in the afternoon|am Nachmittag|px
in the evening|am Abend|px
at night|in der Nacht|px
in the summer|im Sommer|px
in the winter|im Winter|px
in the spring|im Frühling|px
in the autumn|im Herbst|px
"""
DAYS: tuple[tuple[str, str], ...] = (
    ("Monday", "Montag"),
    ("Tuesday", "Dienstag"),
    ("Wednesday", "Mittwoch"),
    ("Thursday", "Donnerstag"),
    ("Friday", "Freitag"),
    ("Saturday", "Samstag"),
    ("Sunday", "Sonntag"),
)
# English, German, number of days (no 29th of February)
MONTHS: tuple[tuple[str, str, int], ...] = (
    ("January", "Januar", 31),
    ("February", "Februar", 28),
    ("March", "März", 31),
    ("April", "April", 30),
    ("May", "Mai", 31),
    ("June", "Juni", 30),
    ("July", "Juli", 31),
    ("August", "August", 31),
    ("September", "September", 30),
    ("October", "Oktober", 31),
    ("November", "November", 30),
    ("December", "Dezember", 31),
)
TIME_WORDS: tuple[TimeWord, ...] = (
    tuple(TimeWord(*line.split("|")) for line in _TIME_TABLE.strip().splitlines())
    + tuple(TimeWord(f"on {en}", f"am {de}", "px", en) for en, de in DAYS)
    + tuple(TimeWord(f"in {en}", f"im {de}", "px", en) for en, de, _ in MONTHS)
)


@dataclass(frozen=True)
class Pronoun:
    key: str
    en_nom: str
    en_obj: str
    en_poss: str
    de_nom: str
    de_acc: str
    de_dat: str
    de_poss: str  # stem of the possessive determiner
    person: str  # agreement: 1sg, 3sg, 1pl, 3pl

    @property
    def lemma(self) -> str:
        return "p:" + self.key


PRONOUNS: tuple[Pronoun, ...] = (
    Pronoun("1sg", "I", "me", "my", "ich", "mich", "mir", "mein", "1sg"),
    Pronoun("3sgm", "he", "him", "his", "er", "ihn", "ihm", "sein", "3sg"),
    Pronoun("3sgf", "she", "her", "her", "sie", "sie", "ihr", "ihr", "3sg"),
    Pronoun("1pl", "we", "us", "our", "wir", "uns", "uns", "unser", "1pl"),
    Pronoun("3pl", "they", "them", "their", "sie", "sie", "ihnen", "ihr", "3pl"),
)


@dataclass(frozen=True)
class Conj:
    en: str
    de: str

    @property
    def lemma(self) -> str:
        return "c:" + self.en


CONJUNCTIONS: dict[str, Conj] = {
    c.en: c
    for c in (
        Conj("that", "dass"),
        Conj("because", "weil"),
        Conj("although", "obwohl"),
        Conj("if", "wenn"),
        Conj("when", "wenn"),
    )
}

# cardinal numbers used before plural nouns (no 101, 201, ...: "hunderteins Bücher")
COUNTS: tuple[int, ...] = tuple(range(2, 21)) + (
    21,
    22,
    24,
    25,
    30,
    33,
    40,
    45,
    50,
    60,
    75,
    99,
    100,
    105,
    120,
    200,
    250,
    500,
    1000,
)


def lexicon_counts() -> dict[str, int]:
    """Number of lemmas per category."""
    places = sum(1 for n in NOUNS if n.loc is not None)
    return {
        "nouns": len(NOUNS) - places,
        "places": places + len(GEO) + 1,  # + home
        "verbs": len(VERBS),
        "adjectives": len(ADJECTIVES),
        "adverbs": len(ADVERBS),
        "names": len(NAMES),
        "time_words": len(TIME_WORDS),
    }


def lexicon_size() -> int:
    """Total number of lemmas in the lexicon tables."""
    return sum(lexicon_counts().values())


# --------------------------------------------------------------------------------------
# Numbers (num2words, with its quirks wrapped)
# --------------------------------------------------------------------------------------


def en_number(n: int) -> str:
    """English cardinal as num2words writes it: "twenty-one", "one hundred and five"."""
    return num2words(n)


def en_ordinal(n: int) -> str:
    return num2words(n, to="ordinal")


def de_number(n: int) -> str:
    """German cardinal standing alone ("eins", "einundzwanzig", "einhundertfünf")."""
    return num2words(n, lang="de")


def de_number_before_noun(n: int, gender: str, case: str) -> str:
    """German cardinal before a noun: 1 is the article "ein" / "eine" / "einen" ..."""
    if n == 1:
        return "ein" + EIN_ENDING[gender, case]
    if n % 100 == 1:
        raise ValueError(f"{n} before a noun is avoided ('hundertein' / 'hunderteins')")
    return de_number(n)


def de_ordinal(n: int, ending: str) -> str:
    """German ordinal with an adjective ending: de_ordinal(3, "en") == "dritten"."""
    base = num2words(n, lang="de", to="ordinal")
    assert base.endswith("e"), base
    return base[:-1] + ending


def date_phrase(day: int, month: int) -> tuple[str, str]:
    """("on the twenty-first of March", "am einundzwanzigsten März"); month 1..12."""
    en_month, de_month, days = MONTHS[month - 1]
    if not 1 <= day <= days:
        raise ValueError(f"no day {day} in {en_month}")
    return (
        f"on the {en_ordinal(day)} of {en_month}",
        f"am {de_ordinal(day, 'en')} {de_month}",
    )


CLOCK_MINUTES: tuple[int, ...] = (0, 5, 10, 15, 20, 30, 40, 45, 50, 55)


def clock_phrase(hour: int, minute: int) -> tuple[str, str]:
    """("at half past three", "um halb vier") for hour 1..12 and CLOCK_MINUTES.

    German counts half hours towards the next hour ("halb vier" = 3:30), uses
    "Viertel nach / vor", "zwanzig vor neun", and "ein Uhr" but "halb eins".
    """
    if not 1 <= hour <= 12 or minute not in CLOCK_MINUTES:
        raise ValueError(f"unsupported time {hour}:{minute:02d}")
    nxt = hour % 12 + 1
    if minute == 0:
        de_hour = "ein" if hour == 1 else de_number(hour)
        return f"at {en_number(hour)} o'clock", f"um {de_hour} Uhr"
    if minute == 30:
        return f"at half past {en_number(hour)}", f"um halb {de_number(nxt)}"
    if minute == 15:
        return (
            f"at a quarter past {en_number(hour)}",
            f"um Viertel nach {de_number(hour)}",
        )
    if minute == 45:
        return f"at a quarter to {en_number(nxt)}", f"um Viertel vor {de_number(nxt)}"
    if minute < 30:
        return (
            f"at {en_number(minute)} past {en_number(hour)}",
            f"um {de_number(minute)} nach {de_number(hour)}",
        )
    rest = 60 - minute
    return (
        f"at {en_number(rest)} to {en_number(nxt)}",
        f"um {de_number(rest)} vor {de_number(nxt)}",
    )


# --------------------------------------------------------------------------------------
# German morphology
# --------------------------------------------------------------------------------------

CASES: tuple[str, ...] = ("nom", "acc", "dat", "gen")


def _table(spec: dict[str, str]) -> dict[tuple[str, str], str]:
    out = {}
    for gender, forms in spec.items():
        for case, form in zip(CASES, forms.split()):
            out[gender, case] = "" if form == "-" else form
    return out


DEF_ARTICLE = _table(
    {
        "m": "der den dem des",
        "f": "die die der der",
        "n": "das das dem des",
        "pl": "die die den der",
    }
)
# ein / kein / mein / unser ...
EIN_ENDING = _table(
    {"m": "- en em es", "f": "e e er er", "n": "- - em es", "pl": "e e en er"}
)
DIESER_ENDING = _table(
    {"m": "er en em es", "f": "e e er er", "n": "es es em es", "pl": "e e en er"}
)
ADJ_ENDING: dict[str, dict[tuple[str, str], str]] = {
    # no article, numbers, prenominal genitive
    "strong": _table(
        {"m": "er en em en", "f": "e e er er", "n": "es es em en", "pl": "e e en er"}
    ),
    # after der / dieser
    "weak": _table(
        {"m": "e en en en", "f": "e e en en", "n": "e e en en", "pl": "en en en en"}
    ),
    # after ein / kein / possessives
    "mixed": _table(
        {"m": "er en en en", "f": "e e en en", "n": "es es en en", "pl": "en en en en"}
    ),
}
# preposition + definite article
CONTRACTIONS: dict[tuple[str, str], str] = {
    ("in", "dem"): "im",
    ("in", "das"): "ins",
    ("an", "dem"): "am",
    ("an", "das"): "ans",
    ("zu", "dem"): "zum",
    ("zu", "der"): "zur",
    ("von", "dem"): "vom",
    ("bei", "dem"): "beim",
}
EN_BE = {
    "present": {"1sg": "am", "3sg": "is", "1pl": "are", "3pl": "are"},
    "past": {"1sg": "was", "3sg": "was", "1pl": "were", "3pl": "were"},
}
DE_SEIN = {
    "present": {"1sg": "bin", "3sg": "ist", "1pl": "sind", "3pl": "sind"},
    "past": {"1sg": "war", "3sg": "war", "1pl": "waren", "3pl": "waren"},
}
DE_HABEN = {"1sg": "habe", "3sg": "hat", "1pl": "haben", "3pl": "haben"}


def de_noun_form(noun: Noun, plural: bool, case: str) -> str:
    """Inflected German noun: dative plural -n, n-declension, genitive -s / -es."""
    if plural:
        form = noun.de_pl
        if case == "dat" and not form.endswith(("n", "s")):
            form += "n"
        return form
    if noun.weak and case != "nom":
        return noun.weak
    if case == "gen" and noun.gender != "f":
        return noun.de_gen
    return noun.de_sg


def de_present(verb: Verb, person: str) -> str:
    """German present tense (without the separable prefix)."""
    base = verb.de_inf[len(verb.prefix) :]
    if person == "3sg":
        return verb.de_3sg
    if person == "1sg":
        if verb.de_1sg:
            return verb.de_1sg
        if base.endswith(("ern", "eln")):
            return base[:-1] + "e"
        return base[:-2] + "e"
    return base


# --------------------------------------------------------------------------------------
# Syntax: noun phrases and clauses, realised in both languages
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NP:
    """A noun phrase: a pronoun, a name, or a determiner + (adjective) + noun.

    det: "def", "indef", "poss", "this", "bare" (plural / mass), "num" (``count``).
    ``owner`` is a genitive possessor (the head then has a definite article, or none
    before a name: "Annas Auto"); ``saxon`` writes it "the teacher's car" in English.
    """

    kind: str  # "pron", "name", "noun"
    pron: Pronoun | None = None
    name: Name | None = None
    noun: Noun | None = None
    det: str = ""
    plural: bool = False
    poss: Pronoun | None = None
    adj: Adj | None = None
    count: int = 0
    owner: NP | None = None
    saxon: bool = False

    @property
    def person(self) -> str:
        if self.pron is not None:
            return self.pron.person
        return "3pl" if self.plural else "3sg"


def _a_or_an(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def en_np(np: NP, case: str = "nom") -> str:
    if np.kind == "pron":
        assert np.pron is not None
        return np.pron.en_nom if case == "nom" else np.pron.en_obj
    if np.kind == "name":
        assert np.name is not None
        return np.name.en
    noun = np.noun
    assert noun is not None
    head = noun.en_pl if np.plural else noun.en_sg
    if np.adj is not None:
        head = f"{np.adj.en} {head}"
    if np.owner is not None:
        if np.saxon:
            return f"{en_np(np.owner)}'s {head}"
        return f"the {head} of {en_np(np.owner, 'obj')}"
    if np.det == "def":
        return f"the {head}"
    if np.det == "indef":
        return f"{_a_or_an(head)} {head}"
    if np.det == "poss":
        assert np.poss is not None
        return f"{np.poss.en_poss} {head}"
    if np.det == "this":
        return f"{'these' if np.plural else 'this'} {head}"
    if np.det == "num":
        return f"{en_number(np.count)} {head}"
    return head


def de_np(np: NP, case: str, neg: bool = False) -> list[str]:
    """German noun phrase in ``case``; ``neg`` turns ein / no article into kein."""
    if np.kind == "pron":
        assert np.pron is not None
        p = np.pron
        return [{"nom": p.de_nom, "acc": p.de_acc, "dat": p.de_dat}[case]]
    if np.kind == "name":
        assert np.name is not None
        return [np.name.de]
    noun = np.noun
    assert noun is not None
    g = "pl" if np.plural else noun.gender
    toks: list[str] = []
    if np.owner is not None and np.owner.kind == "name":
        assert np.owner.name is not None
        toks.append(np.owner.name.de + "s")
        decl = "strong"
    else:
        det = "def" if np.owner is not None else np.det
        if neg and det in ("indef", "bare"):
            det = "kein"
        if det == "def":
            toks.append(DEF_ARTICLE[g, case])
            decl = "weak"
        elif det == "this":
            toks.append("dies" + DIESER_ENDING[g, case])
            decl = "weak"
        elif det in ("indef", "kein", "poss"):
            if det == "poss":
                assert np.poss is not None
                stem = np.poss.de_poss
            else:
                stem = "ein" if det == "indef" else "kein"
            toks.append(stem + EIN_ENDING[g, case])
            decl = "mixed"
        elif det == "num":
            toks.append(de_number_before_noun(np.count, g, case))
            decl = "mixed" if np.count == 1 else "strong"
        else:
            decl = "strong"
    if np.adj is not None:
        toks.append(np.adj.stem + ADJ_ENDING[decl][g, case])
    toks.append(de_noun_form(noun, np.plural, case))
    if np.owner is not None and np.owner.kind != "name":
        toks.extend(de_np(np.owner, "gen"))
    return toks


def de_pp(prep: str, case: str, np: NP) -> list[str]:
    """German prepositional phrase, contracting "in dem" -> "im", "zu der" -> "zur"."""
    toks = de_np(np, case)
    definite = np.kind == "noun" and (
        np.det == "def" or (np.owner is not None and np.owner.kind != "name")
    )
    if definite and (prep, toks[0]) in CONTRACTIONS:
        return [CONTRACTIONS[prep, toks[0]]] + toks[1:]
    return [prep] + toks


@dataclass(frozen=True)
class Phrase:
    """A ready-made constituent in both languages (complement, adjunct, predicate)."""

    en: str
    de: tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    """One clause; ``tense`` is the English tense: "present", "past" or "perfect".

    German uses the present, or the Perfekt for both English past tenses (the copula:
    Präteritum "war"). ``time_fronted`` puts ``time`` first (German verb second).
    """

    subj: NP
    verb: Verb
    frame: str
    tense: str = "present"
    obj: NP | None = None
    iobj: NP | None = None
    comp: Phrase | None = None
    pp: Phrase | None = None
    time: Phrase | None = None
    time_fronted: bool = False
    freq: Adverb | None = None
    manner: Adverb | None = None
    neg: bool = False
    pred: Phrase | None = None


def _en_rest(c: Clause) -> list[str]:
    v = c.verb
    toks: list[str] = []
    if c.frame == "ditr":
        assert c.iobj is not None and c.obj is not None
        toks += [en_np(c.iobj, "obj"), en_np(c.obj, "obj")]
    elif c.obj is not None:
        o = en_np(c.obj, "obj")
        if v.en_part:
            toks += [o, v.en_part] if c.obj.kind == "pron" else [v.en_part, o]
        elif v.en_prep:
            toks += [v.en_prep, o]
        else:
            toks.append(o)
    elif v.en_part:
        toks.append(v.en_part)
    for part in (c.comp, c.pp):
        if part is not None:
            toks.append(part.en)
    if c.manner is not None:
        toks.append(c.manner.en)
    if c.pred is not None:
        toks.append(c.pred.en)
    if c.time is not None and not c.time_fronted:
        toks.append(c.time.en)
    return toks


def _en_tense(c: Clause) -> str:
    return "present" if c.tense == "present" else "past"


def en_declarative(c: Clause) -> list[str]:
    """English declarative clause (without a fronted time phrase)."""
    p = c.subj.person
    v = c.verb
    toks = [en_np(c.subj, "nom")]
    if v.key == "be":
        toks.append(EN_BE[_en_tense(c)][p])
        if c.neg:
            toks.append("not")
    elif c.tense == "perfect":
        toks.append("has" if p == "3sg" else "have")
        if c.neg:
            toks.append("not")
        toks.append(v.en[3])
    elif c.neg:
        if c.tense == "past":
            toks.append("did")
        else:
            toks.append("does" if p == "3sg" else "do")
        toks += ["not", v.en[0]]
    else:
        if c.freq is not None:
            toks.append(c.freq.en)
        if c.tense == "past":
            toks.append(v.en[2])
        else:
            toks.append(v.en[1] if p == "3sg" else v.en[0])
    return toks + _en_rest(c)


def en_question(c: Clause, wh: str = "") -> list[str]:
    """English question: "Does the teacher buy a book", "Why has she called him"."""
    p = c.subj.person
    v = c.verb
    toks = [wh] if wh else []
    if v.key == "be":
        toks += [EN_BE[_en_tense(c)][p], en_np(c.subj, "nom")]
    elif c.tense == "perfect":
        toks += ["has" if p == "3sg" else "have", en_np(c.subj, "nom"), v.en[3]]
    else:
        if c.tense == "past":
            aux = "did"
        else:
            aux = "does" if p == "3sg" else "do"
        toks += [aux, en_np(c.subj, "nom"), v.en[0]]
    return toks + _en_rest(c)


def _de_middle(c: Clause) -> list[str]:
    """German middle field: pronouns, time, objects, nicht, adverbials, complements."""
    objs: list[tuple[NP, str]] = []
    if c.frame == "ditr":
        assert c.iobj is not None and c.obj is not None
        objs = [(c.iobj, "dat"), (c.obj, "acc")]
    elif c.frame == "tr":
        assert c.obj is not None
        objs = [(c.obj, "acc")]
    elif c.frame == "dat":
        assert c.obj is not None
        objs = [(c.obj, "dat")]
    toks: list[str] = []
    # unstressed pronouns first, accusative before dative
    for np, case in sorted(
        (o for o in objs if o[0].kind == "pron"), key=lambda o: o[1] != "acc"
    ):
        toks += de_np(np, case)
    if c.time is not None and not c.time_fronted:
        toks += c.time.de
    if c.freq is not None:
        toks.append(c.freq.de)
    kein = None
    if c.neg and objs:
        last = objs[-1][0]
        if last.kind == "noun" and last.det in ("indef", "bare"):
            kein = last
    for np, case in objs:
        if np.kind != "pron":
            toks += de_np(np, case, neg=np is kein)
    if c.neg and kein is None:
        toks.append("nicht")
    if c.manner is not None:
        toks.append(c.manner.de)
    if c.pp is not None:
        toks += c.pp.de
    if c.frame == "prep":
        assert c.obj is not None
        prep, case = c.verb.de_prep.split("+")
        toks += de_pp(prep, case, c.obj)
    if c.comp is not None:
        toks += c.comp.de
    if c.pred is not None:
        toks += c.pred.de
    return toks


def _de_verb(c: Clause) -> tuple[str, list[str], list[str]]:
    """(finite verb, verb-final part of a main clause, verb cluster of a subclause)."""
    p = c.subj.person
    v = c.verb
    if v.key == "be":
        f = DE_SEIN["present" if c.tense == "present" else "past"][p]
        return f, [], [f]
    if c.tense == "present":
        f = de_present(v, p)
        if v.prefix:
            return f, [v.prefix], [v.prefix + f]
        return f, [], [f]
    aux = DE_SEIN["present"][p] if v.aux == "sein" else DE_HABEN[p]
    return aux, [v.de_pp], [v.de_pp, aux]


def de_main(c: Clause) -> list[str]:
    """German main clause, verb second (after the subject or the fronted time)."""
    finite, tail, _ = _de_verb(c)
    if c.time_fronted:
        assert c.time is not None
        return de_inverted(c, list(c.time.de))
    return de_np(c.subj, "nom") + [finite] + _de_middle(c) + tail


def de_inverted(c: Clause, front: list[str]) -> list[str]:
    """German main clause with ``front`` in first position: verb, then subject."""
    finite, tail, _ = _de_verb(c)
    return front + [finite] + de_np(c.subj, "nom") + _de_middle(c) + tail


def de_question(c: Clause, wh: str = "") -> list[str]:
    """German question: verb first, or after the question word."""
    return de_inverted(c, [wh] if wh else [])


def de_subordinate(c: Clause) -> list[str]:
    """German subordinate clause body, verb last ("sie das Auto gekauft hat")."""
    _, _, cluster = _de_verb(c)
    return de_np(c.subj, "nom") + _de_middle(c) + cluster


def sentence(tokens: Sequence[str], end: str = ".") -> str:
    text = " ".join(t for t in tokens if t).replace(" ,", ",")
    return text[0].upper() + text[1:] + end


def render(c: Clause) -> tuple[str, str]:
    """A declarative main clause in both languages."""
    en = ([c.time.en] if c.time_fronted and c.time else []) + en_declarative(c)
    return sentence(en), sentence(de_main(c))


def render_question(c: Clause, wh: tuple[str, str] = ("", "")) -> tuple[str, str]:
    return sentence(en_question(c, wh[0]), "?"), sentence(de_question(c, wh[1]), "?")


def render_complex(
    matrix: Clause, conj: Conj, content: Clause, first: bool = False
) -> tuple[str, str]:
    """Main clause + subordinate clause, or the subordinate clause first."""
    if first:
        en = [conj.en] + en_declarative(content) + [","] + en_declarative(matrix)
        de = de_inverted(matrix, [conj.de] + de_subordinate(content) + [","])
    else:
        en = en_declarative(matrix) + [conj.en] + en_declarative(content)
        de = de_main(matrix) + [",", conj.de] + de_subordinate(content)
    return sentence(en), sentence(de)


# --------------------------------------------------------------------------------------
# Lookups (also used by the tests to build sentences by hand)
# --------------------------------------------------------------------------------------

_NOUN_BY_KEY = {n.key: n for n in NOUNS}
_VERB_BY_KEY = {v.key: v for v in VERBS}
_ADJ_BY_KEY = {a.en: a for a in ADJECTIVES}
_PRON_BY_KEY = {p.key: p for p in PRONOUNS}
_TIME_BY_KEY = {t.key or t.en: t for t in TIME_WORDS}
_ADV_BY_KEY = {a.en: a for a in ADVERBS}
_NAME_BY_KEY = {n.en: n for n in NAMES}
_GEO_BY_KEY = {g.en: g for g in GEO}
assert len(_NOUN_BY_KEY) == len(NOUNS), "duplicate noun keys"
assert len(_VERB_BY_KEY) == len(VERBS), "duplicate verb keys"
assert len(_ADJ_BY_KEY) == len(ADJECTIVES), "duplicate adjectives"


def noun(key: str) -> Noun:
    return _NOUN_BY_KEY[key]


def verb(key: str) -> Verb:
    return _VERB_BY_KEY[key]


def adj(key: str) -> Adj:
    return _ADJ_BY_KEY[key]


def pron(key: str) -> NP:
    return NP("pron", pron=_PRON_BY_KEY[key])


def name(key: str) -> NP:
    return NP("name", name=_NAME_BY_KEY[key])


def adverb(key: str) -> Adverb:
    return _ADV_BY_KEY[key]


def geo(key: str) -> Geo:
    return _GEO_BY_KEY[key]


def np(
    key: str,
    det: str = "def",
    *,
    plural: bool = False,
    adjective: str = "",
    poss: str = "",
    count: int = 0,
    owner: NP | None = None,
    saxon: bool = False,
) -> NP:
    """Noun phrase by lexicon keys: np("car", "poss", poss="3sgf", adjective="old")."""
    return NP(
        "noun",
        noun=noun(key),
        det=det,
        plural=plural,
        poss=_PRON_BY_KEY[poss] if poss else None,
        adj=adj(adjective) if adjective else None,
        count=count,
        owner=owner,
        saxon=saxon,
    )


def time_phrase(key: str) -> Phrase:
    t = _TIME_BY_KEY[key]
    return Phrase(t.en, tuple(t.de.split()))


def loc_phrase(place: NP | Geo | Home) -> Phrase:
    """Location: "in the garden" / "im Garten", "in Berlin", "at home" / "zu Hause"."""
    if isinstance(place, Home):
        return Phrase("at home", ("zu", "Hause"))
    if isinstance(place, Geo):
        return Phrase(f"in {place.en}", ("in", place.de))
    assert place.noun is not None and place.noun.loc is not None
    en_prep, de_prep = place.noun.loc
    return Phrase(
        f"{en_prep} {en_np(place, 'obj')}", tuple(de_pp(de_prep, "dat", place))
    )


def dir_phrase(place: NP | Geo | Home) -> Phrase:
    """Direction: "into the garden" / "in den Garten", "to Berlin" / "nach Berlin"."""
    if isinstance(place, Home):
        return Phrase("home", ("nach", "Hause"))
    if isinstance(place, Geo):
        return Phrase(f"to {place.en}", ("nach", place.de))
    assert place.noun is not None and place.noun.dir is not None
    en_prep, de_prep = place.noun.dir
    case = "dat" if de_prep == "zu" else "acc"
    return Phrase(
        f"{en_prep} {en_np(place, 'obj')}", tuple(de_pp(de_prep, case, place))
    )


def pp_phrase(prep: str, obj: NP) -> Phrase:
    """Adjunct: "with X" (mit + dat), "for X" (für + acc), "without X" (ohne + acc)."""
    de_prep, case = {"with": ("mit", "dat"), "for": ("für", "acc")}.get(
        prep, ("ohne", "acc")
    )
    return Phrase(f"{prep} {en_np(obj, 'obj')}", tuple(de_pp(de_prep, case, obj)))


def adj_phrase(a: Adj) -> Phrase:
    return Phrase(a.en, (a.de,))


def age_phrase(years: int) -> Phrase:
    """("seven years old", "sieben Jahre alt"); one year: "ein Jahr alt"."""
    if years == 1:
        return Phrase("one year old", ("ein", "Jahr", "alt"))
    return Phrase(f"{en_number(years)} years old", (de_number(years), "Jahre", "alt"))


# --------------------------------------------------------------------------------------
# Random generation
# --------------------------------------------------------------------------------------


class _Reject(Exception):
    """The current candidate cannot be completed (e.g. no allowed lemma left)."""


def _lemma(x: object) -> str:
    return x.lemma  # type: ignore[attr-defined]


class _Ctx:
    """Random source of one split; ``allowed`` restricts the lemmas that may be used."""

    def __init__(self, rng: random.Random, allowed: frozenset[str] | None) -> None:
        self.rng = rng
        self.allowed = allowed
        self._cache: dict[str, tuple] = {}
        self.lemmas: list[str] = []
        self.verb_keys: list[str] = []
        self.adj_keys: list[str] = []

    def begin(self) -> None:
        self.lemmas = []
        self.verb_keys = []
        self.adj_keys = []

    def pick(
        self,
        items: Sequence,
        cache_key: str,
        lemma: Callable[[object], str] = _lemma,
    ):
        if self.allowed is not None:
            cached = self._cache.get(cache_key)
            if cached is None:
                cached = tuple(x for x in items if lemma(x) in self.allowed)
                self._cache[cache_key] = cached
            items = cached
        if not items:
            raise _Reject
        x = items[self.rng.randrange(len(items))]
        self.lemmas.append(lemma(x))
        return x

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def choice(self, items: Sequence):
        """A choice that is not a lemma (tense, determiner, frame ...)."""
        return items[self.rng.randrange(len(items))]

    def weighted(self, items: Sequence[tuple[object, float]]):
        total = sum(w for _, w in items)
        r = self.rng.random() * total
        for item, w in items:
            r -= w
            if r < 0:
                return item
        return items[-1][0]


def _by_tags(nouns: Sequence[Noun], tags: Sequence[str]) -> tuple[Noun, ...]:
    wanted = set(tags)
    return tuple(n for n in nouns if n.tags & wanted)


_PERSONS = _by_tags(NOUNS, ["person"])
_NONPERSON = tuple(n for n in NOUNS if "person" not in n.tags)
_PLACES_LOC = tuple(n for n in NOUNS if n.loc is not None)
_PLACES_DIR = tuple(n for n in NOUNS if n.dir is not None)
_ADJ_FOR_NOUN: dict[str, tuple[Adj, ...]] = {
    n.key: tuple(a for a in ADJECTIVES if a.tags & n.tags) for n in NOUNS
}
_TIMES_BY_TENSE = {
    "present": tuple(t for t in TIME_WORDS if "p" in t.tenses),
    "past": tuple(t for t in TIME_WORDS if "x" in t.tenses),
}
# "She does not work every day" is "not every day": no "every ..." under negation
_TIMES_NEG = {
    tense: tuple(t for t in times if not t.en.startswith("every"))
    for tense, times in _TIMES_BY_TENSE.items()
}
_FREQ = tuple(a for a in ADVERBS if a.kind == "freq")
_MANNER_FOR: dict[str, tuple[Adverb, ...]] = {
    v.key: tuple(a for a in ADVERBS if a.kind == "manner" and v.key in a.verbs)
    for v in VERBS
}
_PERSON_ADJ = tuple(a for a in ADJECTIVES if "person" in a.tags)
_MATRIX_ADJ = tuple(
    adj(k) for k in ("happy", "sad", "tired", "angry", "nervous", "proud")
)
_WITHOUT = _by_tags(NOUNS, ["without"])
_NUM_NOUNS = tuple(n for n in NOUNS if n.countable and "place" not in n.tags)
_OWNED_PLACES = frozenset(
    "house garden kitchen room bedroom living_room office farm garage".split()
)
_OWNED = tuple(
    n
    for n in NOUNS
    if n.countable
    and (
        n.tags & {"person", "animal", "portable", "clothing", "vehicle"}
        or n.key in _OWNED_PLACES
    )
)


def _is_basic(frame: str) -> bool:
    return frame in ("tr", "intr", "loc", "dir")


_CONTENT_VERBS = tuple(v for v in VERBS if not {"cop", "matrix"} & set(v.frame_names()))
_CONTENT_PAST_VERBS = tuple(v for v in _CONTENT_VERBS if not v.present_only)
_PLAIN_VERBS = tuple(
    v for v in _CONTENT_VERBS if not v.prefix and any(map(_is_basic, v.frame_names()))
)
_PLAIN_PAST_VERBS = tuple(v for v in _PLAIN_VERBS if not v.present_only)
_BASIC_VERBS = tuple(v for v in _CONTENT_VERBS if any(map(_is_basic, v.frame_names())))
_WHEN_VERBS = tuple(v for v in _BASIC_VERBS if not v.present_only)
_SEPARABLE_VERBS = tuple(v for v in _CONTENT_VERBS if v.prefix)
_DITR_VERBS = tuple(v for v in VERBS if "ditr" in v.frame_names())
_DAT_VERBS = tuple(v for v in VERBS if "dat" in v.frame_names())
_PREP_VERBS = tuple(v for v in VERBS if "prep" in v.frame_names())
_MATRIX_VERBS = tuple(v for v in VERBS if "matrix" in v.frame_names())
_TR_VERBS = tuple(v for v in _CONTENT_VERBS if "tr" in v.frame_names())
_LOC_VERBS = tuple(v for v in _CONTENT_VERBS if "loc" in v.frame_names())
_DIR_VERBS = tuple(v for v in _CONTENT_VERBS if "dir" in v.frame_names())
_PP_VERBS = tuple(v for v in _CONTENT_VERBS if v.pp)
_CLOCK_VERBS = tuple(
    verb(k) for k in ("depart", "arrive", "get_up", "wake_up", "go_out", "come_back")
)


def _tsuffix(c: Clause) -> str:
    return "present" if c.tense == "present" else "past"


def _register(ctx: _Ctx, ctype: str, c: Clause) -> None:
    ctx.verb_keys.append(f"{ctype}_{_tsuffix(c)}+{c.verb.key}")


def _maybe_adj(ctx: _Ctx, n: Noun, p: float) -> Adj | None:
    if p <= 0 or not ctx.chance(p):
        return None
    options = _ADJ_FOR_NOUN[n.key]
    if not options:
        if p >= 1:
            raise _Reject
        return None
    a = ctx.pick(options, "adj:" + n.key)
    ctx.adj_keys.append(f"{a.en}+{n.key}")
    return a


_DET_WEIGHTS = {"def": 4.0, "indef": 3.0, "poss": 2.0, "this": 0.6, "bare": 1.5}


def _noun_np(
    ctx: _Ctx,
    n: Noun,
    dets: Sequence[str] = ("def", "indef", "poss", "this", "bare"),
    *,
    p_adj: float = 0.25,
    plural: bool | None = None,
    p_plural: float = 0.25,
) -> NP:
    if not n.countable:
        pl = False
    elif plural is not None:
        pl = plural
    else:
        pl = ctx.chance(p_plural)
    if not n.en_pl:  # mass noun
        options = [d for d in dets if d in ("def", "poss", "this", "bare")]
    elif pl:
        options = [d for d in dets if d in ("def", "poss", "this", "bare")]
    else:
        options = [d for d in dets if d in ("def", "indef", "poss", "this")]
    if not options:
        raise _Reject
    det = ctx.weighted([(d, _DET_WEIGHTS[d]) for d in options])
    poss = (
        ctx.pick(PRONOUNS, "poss", lambda p: "poss:" + p.key) if det == "poss" else None
    )
    return NP(
        "noun", noun=n, det=det, plural=pl, poss=poss, adj=_maybe_adj(ctx, n, p_adj)
    )


def _person_np(
    ctx: _Ctx,
    *,
    subj: NP | None = None,
    dets: Sequence[str] = ("def", "indef", "poss", "this", "bare"),
    p_pron: float = 0.25,
    p_name: float = 0.2,
    p_adj: float = 0.2,
    no_pron: Sequence[str] = (),
) -> NP:
    """A person: pronoun, name or noun phrase; an object never repeats I / we."""
    r = ctx.rng.random()
    if r < p_pron:
        banned = set(no_pron)
        if subj is not None and subj.pron is not None:
            banned |= {"1sg", "1pl"} & {subj.pron.key}
        options = tuple(p for p in PRONOUNS if p.key not in banned)
        p = ctx.pick(options, "pron:" + ",".join(sorted(banned)))
        return NP("pron", pron=p)
    if r < p_pron + p_name:
        return NP("name", name=ctx.pick(NAMES, "names"))
    n = ctx.pick(_PERSONS, "persons")
    return _noun_np(ctx, n, dets, p_adj=p_adj)


def _tagged_np(
    ctx: _Ctx,
    tags: Sequence[str],
    cache_key: str,
    *,
    subj: NP | None = None,
    dets: Sequence[str] = ("def", "indef", "poss", "this", "bare"),
    p_adj: float = 0.25,
    p_pron: float = 0.25,
) -> NP:
    """A noun phrase whose noun has one of ``tags`` ("person" also pronouns, names)."""
    others = tuple(t for t in tags if t != "person")
    if "person" in tags and (not others or ctx.chance(0.5)):
        return _person_np(ctx, subj=subj, dets=dets, p_pron=p_pron, p_adj=p_adj)
    cands = _TAG_CACHE.get(cache_key)
    if cands is None:
        cands = _by_tags(_NONPERSON, others)
        _TAG_CACHE[cache_key] = cands
    n = ctx.pick(cands, cache_key)
    return _noun_np(ctx, n, dets, p_adj=p_adj)


_TAG_CACHE: dict[str, tuple[Noun, ...]] = {}


def _subject(ctx: _Ctx, v: Verb, neg: bool = False, question: bool = False) -> NP:
    dets = ("def", "poss", "this") if neg else ("def", "indef", "poss", "this", "bare")
    tags = v.subj
    if "person" in tags and (len(tags) == 1 or ctx.chance(0.7)):
        return _person_np(
            ctx, dets=dets, p_pron=0.3, no_pron=("1sg",) if question else ()
        )
    others = tuple(t for t in tags if t != "person")
    return _tagged_np(ctx, others, "subj:" + v.key, dets=dets, p_adj=0.2)


def _place(ctx: _Ctx, v: Verb, frame: str, p_adj: float = 0.2) -> Phrase:
    tags = v.tags(frame)
    ck = f"{frame}:{v.key}"
    cands = _TAG_CACHE.get(ck)
    if cands is None:
        base = _PLACES_LOC if frame == "loc" else _PLACES_DIR
        items: list = list(_by_tags(base, tags))
        if "geo" in tags:
            items += GEO
        if "home" in tags:
            items.append(HOME)
        cands = tuple(items)
        _TAG_CACHE[ck] = cands
    x = ctx.pick(cands, ck)
    if isinstance(x, Noun):
        x = _noun_np(ctx, x, ("def", "def", "poss", "indef", "this"), p_adj=p_adj)
        x = replace(x, plural=False) if x.plural else x
    return loc_phrase(x) if frame == "loc" else dir_phrase(x)


def _pp(ctx: _Ctx, prep: str, subj: NP) -> Phrase:
    if prep == "without" and ctx.chance(0.6):
        obj = _noun_np(ctx, ctx.pick(_WITHOUT, "without"), ("poss", "def"), p_adj=0.2)
    else:
        obj = _person_np(ctx, subj=subj, dets=("def", "indef", "poss", "this"))
    return pp_phrase(prep, obj)


def _time_word(ctx: _Ctx, tense: str, neg: bool) -> TimeWord:
    if neg:
        return ctx.pick(_TIMES_NEG[tense], "time_neg:" + tense)
    return ctx.pick(_TIMES_BY_TENSE[tense], "time:" + tense)


def _fix_tense(c: Clause) -> Clause:
    """English "read" / "put": no simple past with I / we / they (= the present)."""
    v = c.verb
    if v.present_only and c.tense != "present":
        return replace(c, tense="present", time=None)
    if (
        c.tense == "past"
        and not c.neg
        and v.en[0] == v.en[2]
        and c.subj.person != "3sg"
    ):
        return replace(c, tense="perfect", time=None, freq=None)
    return c


def make_clause(
    ctx: _Ctx,
    v: Verb,
    frame: str = "",
    tense: str = "present",
    *,
    neg: bool = False,
    p_adj: float = 0.25,
    obj_p_adj: float | None = None,
    p_time: float = 0.0,
    p_freq: float = 0.0,
    p_manner: float = 0.0,
    p_pp: float = 0.0,
    question: bool = False,
    obj_dets: Sequence[str] | None = None,
    subj: NP | None = None,
) -> Clause:
    """A random clause with verb ``v`` (random frame unless given)."""
    frame = frame or ctx.choice(v.frame_names())
    if v.present_only:
        tense = "present"
    if subj is None:
        subj = _subject(ctx, v, neg=neg, question=question)
    obj_p = p_adj if obj_p_adj is None else obj_p_adj
    if obj_dets is None:
        obj_dets = ("def", "poss", "this", "indef", "bare")
    obj = iobj = comp = None
    if frame in ("tr", "dat", "prep"):
        dets = obj_dets
        if neg and frame == "prep":
            dets = tuple(d for d in dets if d not in ("indef", "bare"))
        obj = _tagged_np(
            ctx, v.tags(frame), f"{frame}:{v.key}", subj=subj, dets=dets, p_adj=obj_p
        )
    elif frame == "ditr":
        idets = ("def", "poss", "this") if neg else ("def", "indef", "poss", "this")
        iobj = _person_np(ctx, subj=subj, dets=idets, p_pron=0.3)
        tdets = obj_dets
        if iobj.pron is not None and iobj.pron.key == "3sgf":
            # "gives her books" could also be "gives her (own) books"
            tdets = tuple(d for d in tdets if d not in ("bare", "num"))
        obj = _tagged_np(
            ctx, v.tags("ditr"), "ditr:" + v.key, dets=tdets, p_adj=obj_p, p_pron=0
        )
    elif frame in ("loc", "dir"):
        comp = _place(ctx, v, frame, p_adj=p_adj)
    if subj in (obj, iobj) or (obj is not None and obj == iobj):
        raise _Reject  # "Tom has woken up Tom"
    c = Clause(subj, v, frame, tense, obj=obj, iobj=iobj, comp=comp, neg=neg)
    c = _fix_tense(c)
    tense = c.tense
    r = ctx.rng.random()
    if v.present_only:  # "has the mirror at a quarter past three"
        p_time = 0.0
    if r < p_time and tense != "perfect":
        t = _time_word(ctx, tense, neg)
        c = replace(c, time=Phrase(t.en, tuple(t.de.split())))
    elif r < p_time + p_freq and tense != "perfect" and not neg:
        c = replace(c, freq=ctx.pick(_FREQ, "freq"))
    elif r < p_time + p_freq + p_manner and not neg:
        definite = c.obj is None or c.obj.kind != "noun" or c.obj.det in ("def", "poss")
        options = _MANNER_FOR[v.key]
        if options and definite and c.frame != "ditr":
            c = replace(c, manner=ctx.pick(options, "manner:" + v.key))
    if v.pp and not neg and c.manner is None and ctx.chance(p_pp):
        c = replace(c, pp=_pp(ctx, ctx.choice(v.pp), subj))
    return c


# ----------------------------------------------------------------- constructions


def _plain(ctx: _Ctx, v: Verb) -> str:
    return ctx.choice(tuple(f for f in v.frame_names() if _is_basic(f)))


def _past_tense(ctx: _Ctx) -> str:
    return ctx.choice(("past", "perfect"))


def _main_or_sub(
    ctx: _Ctx, c: Clause, kinds: Sequence[tuple[str, float]]
) -> tuple[str, str]:
    """Realise ``c`` as a main clause, with fronted time, subordinate, or question."""
    kind = ctx.weighted(kinds)
    if kind == "v2":
        if c.tense == "perfect":
            c = replace(c, tense="past")
            c = _fix_tense(c)
        if c.tense == "perfect" or c.verb.present_only:
            kind = "main"
        else:
            if c.freq is not None:
                raise _Reject
            if c.time is None:
                t = _time_word(ctx, _tsuffix(c), c.neg)
                c = replace(c, time=Phrase(t.en, tuple(t.de.split())))
            c = replace(c, time_fronted=True)
    if kind == "main":
        _register(ctx, "main", c)
        return render(c)
    if kind == "v2":
        _register(ctx, "v2", c)
        return render(c)
    if kind == "question":
        if (c.subj.pron is not None and c.subj.pron.key == "1sg") or c.neg or c.freq:
            raise _Reject
        _register(ctx, "question", c)
        return render_question(c)
    first = kind == "subfirst"
    return _complex(ctx, c, first=first)


def _matrix(ctx: _Ctx, conj: Conj) -> Clause:
    subj = _person_np(ctx, dets=("def", "poss"), p_pron=0.4, p_name=0.3, p_adj=0.1)
    if conj.en == "that":
        if ctx.chance(0.2):
            glad = ctx.pick((adj("glad"),), "glad")
            return Clause(subj, verb("be"), "cop", pred=adj_phrase(glad))
        return Clause(subj, ctx.pick(_MATRIX_VERBS, "matrix"), "matrix")
    r = ctx.rng.random()
    if r < 0.5:
        a = ctx.pick(_MATRIX_ADJ, "matrix_adj")
        return Clause(subj, verb("be"), "cop", pred=adj_phrase(a))
    if r < 0.8:
        v = ctx.pick((verb("laugh"), verb("cry"), verb("smile")), "matrix_intr")
        return Clause(subj, v, "intr")
    v = ctx.pick((verb("stay"),), "matrix_stay")
    ctx.lemmas.append(HOME.lemma)
    return Clause(subj, v, "loc", comp=loc_phrase(HOME))


def _complex(ctx: _Ctx, content: Clause, first: bool = False) -> tuple[str, str]:
    if first:
        options = ("because", "although") + (
            ("if", "when") if content.tense == "present" else ()
        )
    elif content.tense == "present":
        options = ("that", "because", "although", "if", "when")
    else:
        options = ("that", "because", "although")
    conj = ctx.pick(
        tuple(CONJUNCTIONS[o] for o in options), f"conj:{first}:{content.tense}"
    )
    if content.time_fronted:
        content = replace(content, time_fronted=False)
    matrix = _matrix(ctx, conj)
    _register(ctx, "subfirst" if first else "subord", content)
    return render_complex(matrix, conj, content, first=first)


_MIXED_KINDS = (
    ("main", 3.0),
    ("v2", 1.0),
    ("subord", 1.5),
    ("subfirst", 0.7),
    ("question", 0.6),
)


def _gen_main_present(ctx: _Ctx) -> tuple[str, str]:
    v = ctx.pick(_PLAIN_VERBS, "plain")
    c = make_clause(
        ctx, v, _plain(ctx, v), p_time=0.2, p_freq=0.15, p_manner=0.12, p_pp=0.15
    )
    _register(ctx, "main", c)
    return render(c)


def _gen_main_perfect(ctx: _Ctx) -> tuple[str, str]:
    v = ctx.pick(_PLAIN_PAST_VERBS, "plain_past")
    tense = _past_tense(ctx)
    c = make_clause(
        ctx, v, _plain(ctx, v), tense, p_time=0.3, p_freq=0.08, p_manner=0.1, p_pp=0.15
    )
    _register(ctx, "main", c)
    return render(c)


def _gen_v2(ctx: _Ctx) -> tuple[str, str]:
    v = ctx.pick(_WHEN_VERBS, "when_verbs")
    tense = ctx.choice(("present", "present", "past"))
    c = make_clause(ctx, v, _plain(ctx, v), tense, p_pp=0.1)
    return _main_or_sub(ctx, c, (("v2", 1.0),))


def _gen_negation(ctx: _Ctx) -> tuple[str, str]:
    v = ctx.pick(_CONTENT_VERBS, "content")
    tense = ctx.choice(("present", "present", "past", "perfect"))
    c = make_clause(ctx, v, "", tense, neg=True, p_time=0.1)
    kinds = (("main", 3.0), ("v2", 0.6), ("subord", 1.0), ("subfirst", 0.4))
    return _main_or_sub(ctx, c, kinds)


def _gen_subord(ctx: _Ctx, tense: str, first: bool = False) -> tuple[str, str]:
    if ctx.chance(0.08):
        c = _copula_clause(ctx, tense)
    else:
        if tense == "present":
            v = ctx.pick(_CONTENT_VERBS, "content")
        else:
            v = ctx.pick(_CONTENT_PAST_VERBS, "content_past")
        c = make_clause(
            ctx, v, "", tense, neg=ctx.chance(0.12), p_time=0.2, p_manner=0.08
        )
    if first:
        return _complex(ctx, c, first=True)
    return _main_or_sub(ctx, c, (("subord", 1.0),))


def _gen_subord_present(ctx: _Ctx) -> tuple[str, str]:
    return _gen_subord(ctx, "present")


def _gen_subord_perfect(ctx: _Ctx) -> tuple[str, str]:
    return _gen_subord(ctx, _past_tense(ctx))


def _gen_subord_first(ctx: _Ctx) -> tuple[str, str]:
    return _gen_subord(
        ctx, ctx.choice(("present", "present", "past", "perfect")), first=True
    )


def _gen_separable(ctx: _Ctx) -> tuple[str, str]:
    v = ctx.pick(_SEPARABLE_VERBS, "separable")
    tense = ctx.choice(("present", "present", "past", "perfect"))
    c = make_clause(ctx, v, "", tense, neg=ctx.chance(0.1), p_time=0.2, p_manner=0.1)
    return _main_or_sub(ctx, c, _MIXED_KINDS)


def _gen_frame(ctx: _Ctx, verbs: Sequence[Verb], frame: str) -> tuple[str, str]:
    v = ctx.pick(verbs, "frame:" + frame)
    tense = ctx.choice(("present", "present", "past", "perfect"))
    c = make_clause(ctx, v, frame, tense, neg=ctx.chance(0.1), p_time=0.15)
    return _main_or_sub(ctx, c, _MIXED_KINDS)


def _gen_ditransitive(ctx: _Ctx) -> tuple[str, str]:
    return _gen_frame(ctx, _DITR_VERBS, "ditr")


def _gen_dative(ctx: _Ctx) -> tuple[str, str]:
    return _gen_frame(ctx, _DAT_VERBS, "dat")


def _gen_preposition(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past", "perfect"))
    r = ctx.rng.random()
    if r < 0.35:
        return _gen_frame(ctx, _PREP_VERBS, "prep")
    if r < 0.6:
        v = ctx.pick(_DIR_VERBS, "dir_verbs")
        c = make_clause(ctx, v, "dir", tense, p_pp=0.5, p_time=0.1)
    elif r < 0.8:
        v = ctx.pick(_LOC_VERBS, "loc_verbs")
        c = make_clause(ctx, v, "loc", tense, p_pp=0.4, p_time=0.1)
    else:
        v = ctx.pick(_PP_VERBS, "pp_verbs")
        frames = tuple(f for f in v.frame_names() if f in ("tr", "intr", "loc", "dir"))
        if not frames:
            raise _Reject
        c = make_clause(ctx, v, ctx.choice(frames), tense, p_pp=1.0)
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0), ("v2", 0.5)))


def _gen_adjective(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past", "perfect"))
    if ctx.chance(0.7):
        v = ctx.pick(_TR_VERBS, "tr_verbs")
        c = make_clause(ctx, v, "tr", tense, p_adj=0.4, obj_p_adj=1.0)
        if c.obj is None or c.obj.adj is None:
            raise _Reject
    else:
        v = ctx.pick(_LOC_VERBS, "loc_verbs")
        c = make_clause(ctx, v, "loc", tense, p_adj=1.0)
        if not ctx.adj_keys:
            raise _Reject
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0), ("v2", 0.5)))


def _owner_np(ctx: _Ctx) -> tuple[NP, bool]:
    """A genitive possessor and whether English writes it with 's."""
    if ctx.chance(0.3):
        return NP("name", name=ctx.pick(NAMES, "names")), True
    n = ctx.pick(_PERSONS, "persons")
    owner = _noun_np(ctx, n, ("def", "def", "poss", "indef"), p_adj=0.2, p_plural=0.2)
    saxon = (
        not owner.plural
        and owner.adj is None
        and owner.det != "indef"
        and ctx.chance(0.6)
    )
    return owner, saxon


def _owned(ctx: _Ctx, n: Noun, owner: NP, saxon: bool, p_adj: float = 0.3) -> NP:
    if owner.noun == n:
        raise _Reject  # "the writer's writer"
    p_plural = 0.0 if n.loc is not None else 0.15
    head = _noun_np(ctx, n, ("def",), p_adj=p_adj, p_plural=p_plural)
    return replace(head, owner=owner, saxon=saxon)


def _gen_genitive(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past", "perfect"))
    r = ctx.rng.random()
    if r < 0.5:
        v = ctx.pick(_TR_VERBS, "tr_verbs")
        c = make_clause(ctx, v, "tr", tense, obj_dets=("def",), obj_p_adj=0.0)
        assert c.obj is not None
        if c.obj.kind != "noun" or c.obj.noun not in _OWNED_SET:
            raise _Reject
        owner, saxon = _owner_np(ctx)
        c = replace(c, obj=_owned(ctx, c.obj.noun, owner, saxon))
    elif r < 0.75:
        v = ctx.pick(_LOC_VERBS, "loc_verbs")
        place = ctx.pick(
            tuple(
                n
                for n in _PLACES_LOC
                if n.tags & set(v.tags("loc")) and n.key in _OWNED_PLACES
            ),
            "gen_place:" + v.key,
        )
        owner, saxon = _owner_np(ctx)
        subj = _subject(ctx, v)
        c = Clause(
            subj, v, "loc", tense, comp=loc_phrase(_owned(ctx, place, owner, saxon))
        )
        c = _fix_tense(c)
    else:
        n = ctx.pick(_OWNED, "owned")
        a = ctx.pick(_ADJ_FOR_NOUN[n.key], "adj:" + n.key)
        owner, saxon = _owner_np(ctx)
        head = _owned(ctx, n, owner, saxon, p_adj=0.0)
        c = Clause(head, verb("be"), "cop", "present" if tense == "present" else "past")
        c = replace(c, pred=adj_phrase(a))
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0)))


_OWNED_SET = frozenset(_OWNED)


def _count(ctx: _Ctx) -> int:
    if ctx.chance(0.05):
        return ctx.pick((1,), "count1", lambda n: f"num:{n}")
    return ctx.pick(COUNTS, "counts", lambda n: f"num:{n}")


def _gen_number(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past", "perfect"))
    r = ctx.rng.random()
    count = _count(ctx)
    if r < 0.6:
        v = ctx.pick(_TR_VERBS, "tr_verbs")
        c = make_clause(ctx, v, "tr", tense, obj_dets=("def",))
        assert c.obj is not None
        if c.obj.kind != "noun" or not c.obj.noun.countable:  # type: ignore[union-attr]
            raise _Reject
        obj = replace(c.obj, det="num", count=count, plural=count > 1, poss=None)
        c = replace(c, obj=obj, manner=None)
    elif r < 0.8:
        v = ctx.pick(_PP_VERBS, "pp_verbs")
        frames = tuple(f for f in v.frame_names() if f in ("intr", "loc", "dir"))
        if "with" not in v.pp or not frames:
            raise _Reject
        c = make_clause(ctx, v, ctx.choice(frames), tense)
        friends = _noun_np(ctx, ctx.pick(_PERSONS, "persons"), ("def",), p_adj=0.2)
        friends = replace(friends, det="num", count=count, plural=count > 1)
        c = replace(c, pp=pp_phrase("with", friends), manner=None)
    else:
        v = ctx.pick(
            tuple(v for v in _CONTENT_VERBS if "animal" in v.subj), "animal_verbs"
        )
        frames = tuple(f for f in v.frame_names() if f in ("intr", "loc", "dir"))
        if not frames:
            raise _Reject
        n = ctx.pick(_by_tags(_NUM_NOUNS, ["animal"]), "num_animals")
        subj = _noun_np(ctx, n, ("def",), p_adj=0.2)
        subj = replace(subj, det="num", count=count, plural=count > 1)
        c = make_clause(ctx, v, ctx.choice(frames), tense, subj=subj)
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 0.7), ("v2", 0.4)))


def _date(ctx: _Ctx) -> Phrase:
    en_month, _, days = month = ctx.pick(MONTHS, "months", lambda m: "t:" + m[0])
    day = ctx.pick(tuple(range(1, days + 1)), "days:" + en_month, lambda d: f"num:{d}")
    en, de = date_phrase(day, MONTHS.index(month) + 1)
    return Phrase(en, tuple(de.split()))


def _clock(ctx: _Ctx) -> Phrase:
    hour = ctx.pick(tuple(range(1, 13)), "hours", lambda h: f"num:{h}")
    minute = ctx.pick(CLOCK_MINUTES, "minutes", lambda m: f"clk:{m}")
    en, de = clock_phrase(hour, minute)
    return Phrase(en, tuple(de.split()))


def _event_np(ctx: _Ctx, tag: str) -> NP:
    n = ctx.pick(_by_tags(NOUNS, [tag]), "events:" + tag)
    return _noun_np(ctx, n, ("def", "poss"), p_adj=0.15, p_plural=0.0)


def _gen_when(
    ctx: _Ctx, phrase: Callable[[_Ctx], Phrase], label: str
) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past"))
    r = ctx.rng.random()
    when = phrase(ctx)
    if r < 0.3:
        subj = _event_np(ctx, "event" if label == "date" else "begins")
        c = Clause(subj, verb("be"), "cop", tense, pred=when)
        return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0), ("question", 0.5)))
    if r < 0.5:
        subj = _event_np(ctx, "begins")
        v = ctx.pick((verb("begin"), verb("end")), "begin_end")
        c = _fix_tense(Clause(subj, v, "intr", tense))
    else:
        pool = _CLOCK_VERBS if label == "clock" and ctx.chance(0.5) else _WHEN_VERBS
        v = ctx.pick(pool, f"{label}_verbs:{len(pool)}")
        c = make_clause(ctx, v, _plain(ctx, v), tense)
    if c.tense == "perfect":
        c = _fix_tense(replace(c, tense="past"))
        if c.tense == "perfect":  # "I have read ... on the third of May"
            raise _Reject
    c = replace(c, time=when)
    if ctx.chance(0.3):
        c = replace(c, time_fronted=True)
        _register(ctx, "v2", c)
        return render(c)
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0), ("question", 0.4)))


def _gen_date(ctx: _Ctx) -> tuple[str, str]:
    return _gen_when(ctx, _date, "date")


def _gen_clock(ctx: _Ctx) -> tuple[str, str]:
    return _gen_when(ctx, _clock, "clock")


def _copula_clause(ctx: _Ctx, tense: str, neg: bool = False) -> Clause:
    if ctx.chance(0.3):
        subj = _person_np(ctx, dets=("def", "poss", "this"), p_pron=0.5, p_adj=0.0)
        a = ctx.pick(_PERSON_ADJ, "person_adj")
    else:
        n = ctx.pick(NOUNS, "nouns")
        subj = _noun_np(ctx, n, ("def", "poss", "this"), p_adj=0.0)
        a = ctx.pick(_ADJ_FOR_NOUN[n.key], "adj:" + n.key)
    t = "present" if tense == "present" else "past"
    return Clause(subj, verb("be"), "cop", t, neg=neg, pred=adj_phrase(a))


def _gen_predicative(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past"))
    c = _copula_clause(ctx, tense, neg=ctx.chance(0.2))
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0), ("question", 0.5)))


def _gen_age(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past"))
    if ctx.chance(0.8):
        subj = _person_np(ctx, dets=("def", "poss"), p_pron=0.3, p_adj=0.1)
        years = ctx.pick(tuple(range(1, 91)), "ages", lambda n: f"num:{n}")
    else:
        subj = _noun_np(
            ctx, ctx.pick(_by_tags(NOUNS, ["pet"]), "pets"), ("def", "poss")
        )
        years = ctx.pick(tuple(range(1, 16)), "pet_ages", lambda n: f"num:{n}")
    if subj.plural:
        subj = replace(
            subj, plural=False, det="def" if subj.det == "bare" else subj.det
        )
    c = Clause(subj, verb("be"), "cop", tense, pred=age_phrase(years))
    return _main_or_sub(ctx, c, (("main", 3.0), ("subord", 1.0), ("question", 0.5)))


_WH = (("why", "warum"), ("when", "wann"), ("where", "wo"))


def _gen_question(ctx: _Ctx) -> tuple[str, str]:
    tense = ctx.choice(("present", "present", "past", "perfect"))
    kind = ctx.weighted((("yn", 3.0), ("why", 1.0), ("when", 0.6), ("where", 0.6)))
    if kind == "where":
        v = ctx.pick(_LOC_VERBS, "loc_verbs")
        c = make_clause(ctx, v, "intr", tense, question=True)
    else:
        v = ctx.pick(_CONTENT_VERBS, "content")
        p_time = 0.15 if kind != "when" else 0.0
        c = make_clause(ctx, v, "", tense, question=True, p_time=p_time)
    _register(ctx, "question", c)
    wh = dict(_WH).get(kind, "")
    wh_pair = (kind, wh) if wh else ("", "")
    return render_question(c, wh_pair)


# construction name, weight, generator
CONSTRUCTIONS: tuple[tuple[str, float, Callable[[_Ctx], tuple[str, str]]], ...] = (
    ("main_present", 9.0, _gen_main_present),
    ("main_perfect", 9.0, _gen_main_perfect),
    ("v2_adverbial", 7.0, _gen_v2),
    ("negation", 8.0, _gen_negation),
    ("subord_present", 7.0, _gen_subord_present),
    ("subord_perfect", 7.0, _gen_subord_perfect),
    ("subord_first", 5.0, _gen_subord_first),
    ("separable", 8.0, _gen_separable),
    ("ditransitive", 5.0, _gen_ditransitive),
    ("dative_verb", 5.0, _gen_dative),
    ("preposition", 7.0, _gen_preposition),
    ("adjective", 5.0, _gen_adjective),
    ("genitive", 5.0, _gen_genitive),
    ("number", 4.0, _gen_number),
    ("date", 4.0, _gen_date),
    ("clock", 4.0, _gen_clock),
    ("predicative", 4.0, _gen_predicative),
    ("age", 2.0, _gen_age),
    ("question", 4.0, _gen_question),
)


@dataclass(frozen=True)
class Sample:
    """A generated pair with the lemmas it uses."""

    pair: Pair
    lemmas: frozenset[str]


def generate(ctx: _Ctx) -> Sample:
    """One random pair (raises _Reject when the candidate cannot be completed)."""
    ctx.begin()
    name_, gen = ctx.weighted([((n, g), w) for n, w, g in CONSTRUCTIONS])
    en, de = gen(ctx)
    combo = tuple(dict.fromkeys(ctx.verb_keys + ctx.adj_keys))
    return Sample(Pair(en, de, name_, combo), frozenset(ctx.lemmas))


class HeldOut:
    """Which combination keys are held out for the compositional test set."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._memo: dict[str, bool] = {}

    def __call__(self, key: str) -> bool:
        hit = self._memo.get(key)
        if hit is None and key.endswith("+be"):
            hit = False  # the copula is a function word: never held out
        if hit is None:
            ctype = key.split("+", 1)[0].rsplit("_", 1)[0]
            rate = HELDOUT_VERB_RATE if ctype in CLAUSE_TYPES else HELDOUT_ADJ_RATE
            hit = random.Random(f"st-grammar-heldout-{self.seed}-{key}").random() < rate
            self._memo[key] = hit
        return hit


def _draw(
    name_: str,
    seed: int,
    n: int,
    allowed: frozenset[str] | None,
    accept: Callable[[Sample], bool],
    seen: set[str],
) -> list[Sample]:
    ctx = _Ctx(random.Random(f"st-grammar-{name_}-{seed}"), allowed)
    out: list[Sample] = []
    attempts = failures = 0
    limit = 300 * n + 3000
    while len(out) < n:
        attempts += 1
        failures += 1
        if attempts > limit or failures > MAX_CONSECUTIVE_FAILURES:
            raise ValueError(
                f"could only generate {len(out)} of {n} {name_} pairs "
                f"({attempts - 1} attempts; train too small for the held-out splits?)"
            )
        try:
            s = generate(ctx)
        except _Reject:
            continue
        if s.pair.en in seen or not accept(s):
            continue
        if allowed is not None and not s.lemmas <= allowed:
            continue
        seen.add(s.pair.en)
        out.append(s)
        failures = 0
    return out


def build_samples(
    seed: int,
    num_train: int,
    num_dev: int,
    num_test: int,
    num_test_compositional: int,
) -> dict[str, list[Sample]]:
    """Like :func:`build_splits`, with the lemmas of every pair."""
    sizes = (num_train, num_dev, num_test, num_test_compositional)
    if any(s < 0 for s in sizes):
        raise ValueError(f"negative split size in {sizes}")
    held = HeldOut(seed)
    seen: set[str] = set()

    def ordinary(s: Sample) -> bool:
        return not any(held(k) for k in s.pair.combo)

    def compositional(s: Sample) -> bool:
        return bool(s.pair.combo) and all(held(k) for k in s.pair.combo)

    train = _draw("train", seed, num_train, None, ordinary, seen)
    allowed = frozenset().union(*(s.lemmas for s in train))
    return {
        "train": train,
        "dev": _draw("dev", seed, num_dev, allowed, ordinary, seen),
        "test": _draw("test", seed, num_test, allowed, ordinary, seen),
        "test_compositional": _draw(
            "test_compositional",
            seed,
            num_test_compositional,
            allowed,
            compositional,
            seen,
        ),
    }


def build_splits(
    seed: int,
    num_train: int,
    num_dev: int,
    num_test: int,
    num_test_compositional: int,
) -> dict[str, list[Pair]]:
    """keys: "train", "dev", "test", "test_compositional"; pairwise disjoint English
    sources; every lemma of dev/test/test_compositional occurs in train; the
    compositional set's combos never occur in train. Raises ValueError when the sizes
    cannot be met."""
    samples = build_samples(seed, num_train, num_dev, num_test, num_test_compositional)
    return {k: [s.pair for s in v] for k, v in samples.items()}


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num_train", type=int, default=10000)
    parser.add_argument("--num_dev", type=int, default=500)
    parser.add_argument("--num_test", type=int, default=500)
    parser.add_argument("--num_test_compositional", type=int, default=500)
    parser.add_argument(
        "--print",
        type=int,
        nargs="?",
        const=5,
        default=0,
        metavar="N",
        help="print N pairs per split (default 5 when given without a value)",
    )
    args = parser.parse_args(argv)
    splits = build_splits(
        args.seed,
        args.num_train,
        args.num_dev,
        args.num_test,
        args.num_test_compositional,
    )
    print(f"lexicon: {lexicon_size()} lemmas {lexicon_counts()}")
    for split, pairs in splits.items():
        counts = Counter(p.construction for p in pairs)
        print(f"== {split}: {len(pairs)} pairs")
        for cons, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"   {cons:16s} {k:6d}  {100.0 * k / max(1, len(pairs)):5.1f} %")
        for p in pairs[: args.print]:
            print(f"   [{p.construction}] {p.en}")
            print(f"   {'':{len(p.construction) + 2}s} {p.de}")
            print(f"   {'':{len(p.construction) + 2}s} {' '.join(p.combo)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
