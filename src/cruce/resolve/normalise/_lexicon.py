"""Small word lists for reading personal names: common given names, surnames, hypocorisms, particles.

Written by hand from general knowledge of names common in Mexico and the United States (no
external data set copied), and joined with the name pools of the synthetic scenarios. They only
need to tell a given name from a surname often enough to guess the order of a name, and to know
that "Pepe" is José; they are not a census.
"""

from __future__ import annotations

from cruce.resolve.normalise._text import fold
from cruce.synth import names as synth

_GIVEN_ES = """
jose juan luis carlos jorge miguel jesus francisco antonio alejandro manuel pedro ricardo roberto fernando
eduardo javier raul sergio arturo alberto enrique ignacio hector oscar ruben martin gerardo ramon andres mario
victor daniel alfredo ernesto rogelio saul adrian guillermo gustavo rafael julio hugo joel ivan omar angel efrain
salvador abel pablo diego david santiago sebastian mateo emiliano leonardo rodrigo marco marcos cesar armando
jaime felipe agustin benjamin cristian christian edgar erick erik emmanuel israel jonathan josue abraham isaac
samuel ismael rigoberto heriberto humberto norberto filiberto gilberto adalberto leopoldo octavio reynaldo
reinaldo rene ramiro nicolas tomas gabriel lorenzo marcelo mauricio maximiliano moises noe orlando pascual
porfirio rosendo silvestre teodoro valentin vicente ezequiel elias eliseo esteban fabian federico froylan
genaro gonzalo hilario horacio jacinto jeronimo lazaro lucio margarito macario nestor osvaldo patricio raymundo
rolando ruperto sabino severiano timoteo ulises wilfrido alonso aurelio baltazar bernardo bruno camilo
candelario cirilo clemente damian dario edmundo eleazar eloy eusebio evaristo faustino fidel florencio
gregorio hernan irineo isidro jacobo joaquin juvenal leonel librado luciano marcelino matias melchor modesto
narciso nazario placido regino remigio roman salomon sixto teofilo uriel valente wenceslao zeferino alfonso
adolfo rodolfo alvaro emilio gildardo abelardo anselmo apolinar arnulfo artemio aureliano bonifacio celestino
cornelio crispin delfino demetrio eladio elpidio epifanio erasmo everardo fortino gaspar gumaro heladio
hipolito isaias jose juventino leobardo maximino nemesio obed onesimo pantaleon prisciliano rufino
sotero tereso ubaldo urbano vidal zacarias
maria ana guadalupe rosa lucia alejandra patricia veronica gabriela claudia leticia adriana elena sofia
fernanda monica carmen dolores concepcion rosario teresa silvia norma yolanda araceli beatriz brenda karina
yesenia itzel xochitl marisol daniela paola jimena andrea mariana valeria ximena regina camila natalia
victoria isabel martha marta laura sandra diana alicia angelica cristina erika erica esther eva gloria graciela
irma josefina juana lorena luz margarita maribel mercedes miriam nancy olga pilar raquel rebeca reyna reina
rocio ruth sara susana virginia viridiana liliana lourdes magdalena marcela maricela estela estefania fabiola
flor hilda ines irene isela janet judith julia karla lidia lilia luisa mayra minerva nayeli noemi ofelia paula
perla petra ramona rosalba rosalia salma soledad socorro tania teresita vanessa wendy yadira zoila aurora
amparo antonia catalina cecilia consuelo esperanza francisca guillermina herminia imelda jazmin josefa leonor
lucero manuela maura micaela nora paulina refugio rufina sonia trinidad ursula adela agustina alma amalia
azucena blanca carolina celia delia edith elisa elvira emilia enriqueta evangelina felicitas genoveva griselda
hortensia ivonne jacqueline leonarda lizbeth martina matilde nidia oralia rosaura sabina selena tomasa yazmin
zulema abril alondra anahi areli belen berenice citlali dulce elvia eugenia fatima gisela iliana jessica
juanita lizeth marina maritza nadia nelly rosalinda sarahi yessica yuridia
"""
_GIVEN_EN = """
james robert michael william david richard joseph thomas christopher charles daniel matthew anthony mark donald
steven stephen paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary
nicholas eric jonathan larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack
dennis jerry tyler aaron adam nathan henry douglas zachary peter kyle walter ethan jeremy harold keith christian
roger noah gerald carl terry sean austin arthur lawrence jesse dylan bryan joe jordan billy bruce albert willie
gabriel logan alan wayne roy ralph randy eugene vincent russell elijah louis bobby philip johnny cody travis
dustin chad derek shane brett troy lee dean allen ray lynn wesley curtis clayton dale earl floyd glenn leroy
marvin ricky tony bradley john frederick
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia
kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel
carolyn janet catherine heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan
evelyn judith megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice
jean abigail alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie
brittany charlotte alexandra marie kayla alexis lori crystal tiffany renee jo tammy tracy misty april dawn
"""
_SURNAMES_ES = """
garcia rodriguez martinez hernandez lopez gonzalez perez sanchez ramirez torres flores rivera gomez diaz reyes
cruz morales ortiz gutierrez chavez ramos ruiz mendoza alvarez castillo jimenez vasquez vazquez moreno romero
herrera medina aguilar vargas castro guerrero rojas contreras dominguez salazar luna ortega delgado soto estrada
nunez rios valdez valdes mejia sandoval ibarra rosales acosta navarro campos vega carrasco espinoza espinosa
juarez salinas figueroa maldonado velazquez cabrera zuniga munoz pena solis quinones villarreal garza tamez
saldana cantu barraza ochoa bustamante valenzuela zamora arriaga olvera orozco esquivel lozano benavides
montemayor leal galvan sepulveda elizondo robles melendez arce lara zepeda nava pacheco banuelos anaya valencia
trujillo tellez cordova cordoba renteria chacon avila marquez sosa tapia cisneros magana ybarra ibanez fuentes
cervantes cortes cortez guzman rubio serrano molina santiago silva suarez marin blanco mora calderon padilla
ayala avalos beltran bautista camacho carrillo cuevas duran escobar fernandez franco galindo gallegos gallardo
garay gil granados guerra hidalgo huerta lugo macias mata miranda montes montoya moya murillo najera nieto
ojeda osorio palacios pineda ponce quintero quiroz rangel rocha rosas salas santos segura solano solorzano
toledo trevino urbina uribe valle velasco villa villanueva zapata zavala leon rio torre fuente anda angel rosa
alvarado arellano arredondo barajas barrera becerra bernal bravo caballero cano casas castaneda ceballos
cedillo corona cuellar enriquez escamilla esparza farias fierro gamez gamboa godinez granado hinojosa jaramillo
ledesma limon loera longoria lucero machado manzano marroquin mireles montano munguia narvaez negrete noriega
ocampo olivares olivas oropeza paredes pedraza pena perales pichardo pizano plascencia preciado puente quezaada
rascon reza rico rincon saenz salcedo salgado sanabria sauceda serna sierra tovar trejo valadez varela vela
venegas verdugo villegas yanez zarate zaragoza alanis almaguer anzaldua bazan briones cavazos davila de
guajardo gaytan ozuna rendon ruelas treviño villalobos
"""
_SURNAMES_EN = """
smith johnson williams brown jones miller davis wilson anderson taylor thomas moore martin jackson thompson white
harris clark lewis robinson walker young allen king wright scott green baker adams nelson hill campbell mitchell
roberts carter phillips evans turner parker collins edwards stewart morris murphy cook rogers morgan peterson
cooper reed bailey bell kelly howard ward cox richardson wood watson brooks bennett gray james hughes price
myers long foster sanders ross powell sullivan russell jenkins perry butler barnes fisher henderson coleman
simmons patterson jordan reynolds hamilton graham kim gonzales alexander wallace griffin west cole hayes gibson
bryant ellis stevens murray ford marshall owens mcdonald harrison kennedy wells woods olson webb washington
tucker freeman burns henry snyder simpson crawford porter mason shaw gordon wagner hunter hicks dixon hunt palmer
robertson black holmes stone meyer boyd mills warren fox rose rice schmidt patel ferguson nichols ryan weaver
daniels stephens gardner payne kelley dunn pierce arnold tran spencer peters hawkins grant hansen hoffman hart
elliott cunningham knight bradley lee
"""
# Words that are both given names and surnames: (given weight, surname weight).
_BOTH: dict[str, tuple[float, float]] = {
    "james": (1.0, 0.3), "thomas": (0.8, 0.6), "martin": (0.7, 0.7), "lee": (0.8, 0.5), "allen": (0.5, 0.7),
    "cruz": (0.3, 1.0), "luna": (0.2, 1.0), "rosa": (1.0, 0.3), "santos": (0.3, 1.0), "reyes": (0.2, 1.0),
    "angel": (1.0, 0.3), "guadalupe": (1.0, 0.1), "jesus": (1.0, 0.1), "salvador": (1.0, 0.2),
    "jordan": (0.6, 0.6), "henry": (0.8, 0.5), "kelly": (0.5, 0.8), "ray": (0.7, 0.4), "dean": (0.7, 0.5),
    "lynn": (0.8, 0.2), "rose": (0.6, 0.5), "grant": (0.3, 0.8), "leon": (0.5, 0.8), "franco": (0.3, 1.0),
    "mercedes": (1.0, 0.2), "santiago": (0.8, 0.6), "roman": (0.8, 0.4), "lucero": (0.6, 0.5),
    "alexander": (0.8, 0.5), "ryan": (0.7, 0.6), "daniels": (0.1, 1.0), "marin": (0.2, 1.0),
    "isabel": (1.0, 0.1), "trinidad": (0.8, 0.3), "jo": (0.8, 0.0), "kim": (0.5, 0.8), "bradley": (0.5, 0.7),
    "russell": (0.5, 0.7), "scott": (0.6, 0.6),
}  # fmt: skip

# Hypocorisms: folded nickname -> the full given names it stands for, most common first.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "pepe": ("jose",), "chepe": ("jose",), "pepito": ("jose",), "joselo": ("jose",), "cheque": ("jose",),
    "tono": ("antonio",), "tony": ("antonio", "anthony"), "lupe": ("guadalupe",), "lupita": ("guadalupe",),
    "paco": ("francisco",), "pancho": ("francisco",), "kiko": ("francisco", "enrique"), "paquito": ("francisco",),
    "chuy": ("jesus",), "chucho": ("jesus",), "chuyito": ("jesus",), "nacho": ("ignacio",),
    "alex": ("alejandro", "alexander", "alejandra", "alexandra"), "jando": ("alejandro",),
    "ale": ("alejandra", "alejandro"),
    "beto": ("alberto", "roberto", "humberto", "norberto", "heriberto", "gilberto", "adalberto"),
    "charly": ("carlos",), "charlie": ("charles", "carlos"), "carlitos": ("carlos",), "lalo": ("eduardo",),
    "kike": ("enrique",), "quique": ("enrique",), "manolo": ("manuel",), "meme": ("manuel", "guillermo"),
    "memo": ("guillermo",), "jerry": ("gerardo", "gerald"), "richi": ("ricardo",), "rick": ("richard", "ricardo"),
    "ricky": ("richard", "ricardo"), "nando": ("fernando",), "luisfer": ("luis",), "juanca": ("juan",),
    "chava": ("salvador",), "tavo": ("gustavo",), "fredy": ("alfredo", "frederick"),
    "freddy": ("alfredo", "frederick"), "neto": ("ernesto",), "rafa": ("rafael",), "chayo": ("rosario",),
    "conchita": ("concepcion",), "concha": ("concepcion",), "chencha": ("concepcion",), "lola": ("dolores",),
    "lolita": ("dolores",), "anita": ("ana",), "mari": ("maria",), "majo": ("maria",), "ma": ("maria",),
    "maru": ("maria",), "adri": ("adriana",), "paty": ("patricia",), "pati": ("patricia",),
    "patty": ("patricia",), "gaby": ("gabriela",), "lety": ("leticia",), "vero": ("veronica",),
    "yoli": ("yolanda",), "tere": ("teresa",), "betty": ("beatriz", "elizabeth"), "pepa": ("josefa",),
    "chela": ("graciela",), "chelo": ("consuelo",), "chente": ("vicente",), "goyo": ("gregorio",),
    "pancha": ("francisca",), "paquita": ("francisca",), "lencho": ("lorenzo",), "tencha": ("hortensia",),
    "licha": ("alicia",), "checo": ("sergio",), "poncho": ("alfonso",), "fito": ("adolfo", "rodolfo"),
    "cuco": ("refugio",), "cuca": ("refugio",), "lulu": ("luisa", "lourdes"), "nati": ("natalia",),
    "fer": ("fernando", "fernanda"), "mau": ("mauricio",), "santi": ("santiago",), "migue": ("miguel",),
    "gus": ("gustavo",), "toni": ("antonio",), "nico": ("nicolas",), "rigo": ("rigoberto",),
    "bob": ("robert",), "bobby": ("robert",), "rob": ("robert",), "robbie": ("robert",), "bill": ("william",),
    "billy": ("william",), "will": ("william",), "willy": ("william",), "jim": ("james",), "jimmy": ("james",),
    "mike": ("michael",), "mikey": ("michael",), "dick": ("richard",), "joe": ("joseph", "jose"),
    "joey": ("joseph",), "tom": ("thomas",), "tommy": ("thomas",), "chris": ("christopher", "christian", "christina"),
    "dan": ("daniel",), "danny": ("daniel",), "matt": ("matthew",), "steve": ("steven", "stephen"),
    "liz": ("elizabeth",), "beth": ("elizabeth",), "jen": ("jennifer",), "jenny": ("jennifer",),
    "jess": ("jessica",), "sam": ("samuel", "samantha"), "kim": ("kimberly",), "steph": ("stephanie",),
    "andy": ("andrew",), "nick": ("nicholas",), "ben": ("benjamin",), "ed": ("edward",),
    "eddie": ("edward", "eduardo"), "ted": ("edward",), "greg": ("gregory",), "jeff": ("jeffrey",),
    "ken": ("kenneth",), "larry": ("lawrence",), "pat": ("patrick", "patricia"), "ron": ("ronald",),
    "tim": ("timothy",), "zach": ("zachary",), "josh": ("joshua",), "jake": ("jacob",), "nate": ("nathan",),
    "sue": ("susan",), "peggy": ("margaret",), "maggie": ("margaret",), "meg": ("megan", "margaret"),
    "kate": ("katherine",), "katie": ("katherine",), "kathy": ("katherine",), "cathy": ("catherine",),
    "debbie": ("deborah",), "becky": ("rebecca",), "mandy": ("amanda",), "cindy": ("cynthia",),
    "sandy": ("sandra",), "vicky": ("victoria",), "trish": ("patricia",), "abby": ("abigail",),
    "jackie": ("jacqueline",), "tina": ("christina",), "angie": ("angela",), "don": ("donald",),
    "doug": ("douglas",), "hank": ("henry",), "johnny": ("john",), "jon": ("jonathan", "john"),
}  # fmt: skip


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that join a surname to what follows ("de la Cruz", "van der Berg", "Mc Donald").
PARTICLES = _set("de del la las los da das do dos di du van von der den ter le mc san santa st")
# What follows a particle inside a given name: "María de la Luz", "José de Jesús", "Juan de Dios".
DEVOTIONAL = _set(
    """luz angeles carmen rosario jesus dios paz refugio lourdes socorro pilar consuelo guadalupe mercedes
    dolores asuncion soledad concepcion fatima salud trinidad gracia esperanza remedios lujan rocio belen
    sagrario montserrat"""
)
TITLES = _set("mr mrs ms miss dr dra sr sra srta lic ing prof don dona sir senor senora")
SUFFIXES = _set("jr sr ii iii iv junior")


def _words(*blocks: str) -> set[str]:
    return {w for block in blocks for w in fold(block).split()}


def _pool_words(pool: tuple[str, ...]) -> set[str]:
    return {w for name in pool for w in fold(name).split() if w not in PARTICLES}


def _build() -> tuple[dict[str, float], dict[str, float]]:
    given_words = _words(_GIVEN_ES, _GIVEN_EN) | _pool_words(
        synth.SPANISH_MALE + synth.SPANISH_FEMALE + synth.ENGLISH_MALE + synth.ENGLISH_FEMALE
    )
    given_words |= _pool_words(synth.ENGLISH_MIDDLE_MALE + synth.ENGLISH_MIDDLE_FEMALE)
    surname_words = _words(_SURNAMES_ES, _SURNAMES_EN) | _pool_words(
        synth.SPANISH_SURNAMES + synth.PARTICLE_SURNAMES + synth.ENGLISH_SURNAMES
    )
    surname_words -= PARTICLES
    given = dict.fromkeys(given_words, 1.0)
    given.update(dict.fromkeys(NICKNAMES, 1.0))
    surname = dict.fromkeys(surname_words, 1.0)
    for word, (g, s) in _BOTH.items():
        given[word], surname[word] = g, s
    return {w: v for w, v in given.items() if v}, {w: v for w, v in surname.items() if v}


GIVEN, SURNAME = _build()
ENGLISH_ONLY_SURNAMES = frozenset(_words(_SURNAMES_EN) - _words(_SURNAMES_ES) - _pool_words(synth.SPANISH_SURNAMES))
